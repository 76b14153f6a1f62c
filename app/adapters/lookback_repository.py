"""SQL for looking back: posted payments, order history, certificates and their items.

Each read is one or a few set-based queries (payments joined with their assessment, order
and enrollment), never a query per row; the services shape the answers.
"""
from __future__ import annotations

import secrets
from dataclasses import fields
from datetime import date, datetime

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from app.adapters import tables as t
from app.domain.certificates import Certificate, CertificateItem, PostedPayment, certificate_number, shanghai_date
from app.domain.errors import Conflict
from app.domain.model import Assessment
from app.domain.orders import DEBITED_STATES, Order, OrderItem, Refund
from app.services.ports import OrderHistory

_A = "a_"  # label prefix of assessment columns in joined selects
_CERT_FIELDS = ("certificate_no", "verification_code", "person_id", "requested_by_person_id", "region",
                "tax_authority", "period_start", "period_end", "total_fen", "issued_at", "reissue_of")
_REFUND_FIELDS = ("refund_no", "order_id", "amount_fen", "reason", "state", "provider_refund_no", "created_at",
                  "finished_at")


def _posted_select():
    p, o, a, e, ci = t.payment, t.payment_order, t.assessment, t.enrollment, t.certificate_item
    certified = exists().where(ci.c.payment_id == p.c.id, ci.c.original)
    return (select(p.c.id.label("payment_id"), p.c.kind, p.c.e_ticket_number, p.c.amount_fen, p.c.posted_at,
                   o.c.order_no,
                   o.c.channel, o.c.provider, o.c.method, o.c.payer_person_id, e.c.category,
                   certified.label("certified"), *[c.label(_A + c.name) for c in a.c])
            .select_from(p.join(o, o.c.id == p.c.order_id).join(a, a.c.id == p.c.assessment_id)
                         .outerjoin(e, e.c.id == a.c.enrollment_id)))


def _build(cls, values) -> object:
    """A domain object from the columns it has fields for (columns added later are ignored)."""
    return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def _posted(row: Row) -> PostedPayment:
    values = row._mapping
    assessment = _build(Assessment, {k[len(_A):]: v for k, v in values.items() if k.startswith(_A)})
    return PostedPayment(payment_id=row.payment_id, e_ticket_number=row.e_ticket_number, amount_fen=row.amount_fen,
                         posted_at=row.posted_at, assessment=assessment, order_no=row.order_no, channel=row.channel,
                         provider=row.provider, method=row.method, payer_person_id=row.payer_person_id,
                         category=row.category, certified=bool(row.certified), kind=row.kind)


class SqlLookback:
    def __init__(self, conn: Connection):
        self.conn = conn

    # posted payments
    def _payments(self, *where) -> list[PostedPayment]:
        query = _posted_select().where(*where).order_by(t.payment.c.posted_at, t.assessment.c.period_start,
                                                        t.payment.c.id)
        return [_posted(r) for r in self.conn.execute(query)]

    def statement_payments(self, person_id: int, posted_from: datetime, posted_before: datetime) -> list[PostedPayment]:
        """Payments posted in [from, before) for the person, or paid by the person for someone else."""
        return self._payments(or_(t.assessment.c.person_id == person_id,
                                  t.payment_order.c.payer_person_id == person_id),
                              t.payment.c.posted_at >= posted_from, t.payment.c.posted_at < posted_before)

    def certifiable_payments(self, person_id: int, period_start: date, period_end: date) -> list[PostedPayment]:
        """The person's posted payments whose fee period overlaps the range (refunded ones included)."""
        a = t.assessment.c
        return self._payments(a.person_id == person_id, a.period_start <= period_end, a.period_end >= period_start)

    def paid_payments(self, person_id: int) -> list[PostedPayment]:
        """Every posted payment of the person (as the insured person), refunded ones included."""
        return self._payments(t.assessment.c.person_id == person_id)

    def payment_by_ticket(self, e_ticket_number: str) -> PostedPayment | None:
        found = self._payments(t.payment.c.e_ticket_number == e_ticket_number)
        return found[0] if found else None

    def payments_by_ids(self, payment_ids: list[int]) -> list[PostedPayment]:
        return self._payments(t.payment.c.id.in_(payment_ids)) if payment_ids else []

    # order history
    def order_history(self, person_id: int, paid_from: datetime, paid_before: datetime, limit: int) -> OrderHistory:
        """Orders the person was debited for or paid for others, newest first, in a few queries."""
        o, i = t.payment_order, t.order_item
        mine = select(i.c.order_id).where(i.c.person_id == person_id)
        rows = self.conn.execute(
            select(o).where(or_(o.c.id.in_(mine), o.c.payer_person_id == person_id), o.c.state.in_(DEBITED_STATES),
                            o.c.paid_at >= paid_from, o.c.paid_at < paid_before)
            .order_by(o.c.paid_at.desc(), o.c.id.desc()).limit(limit)).all()
        history = OrderHistory()
        if not rows:
            return history
        order_ids = [r.id for r in rows]
        items: dict[int, list[OrderItem]] = {}
        for r in self.conn.execute(select(i).where(i.c.order_id.in_(order_ids)).order_by(i.c.id)):
            items.setdefault(r.order_id, []).append(OrderItem(id=r.id, assessment_id=r.assessment_id,
                                                              person_id=r.person_id, amount_fen=r.amount_fen,
                                                              live=r.live, late_fee_fen=r.late_fee_fen))
        for r in rows:
            history.orders.append(_build(Order, {**r._mapping, "items": items.get(r.id, [])}))
        assessment_ids = [item.assessment_id for its in items.values() for item in its]
        history.assessments = {a.id: a for a in (
            _build(Assessment, r._mapping) for r in self.conn.execute(
                select(t.assessment).where(t.assessment.c.id.in_(assessment_ids))))}
        history.tickets = {r.assessment_id: r.e_ticket_number for r in self.conn.execute(
            select(t.payment.c.assessment_id, t.payment.c.e_ticket_number)
            .where(t.payment.c.order_id.in_(order_ids), t.payment.c.kind == "fee"))}
        for r in self.conn.execute(select(t.refund).where(t.refund.c.order_id.in_(order_ids)).order_by(t.refund.c.id)):
            history.refunds.setdefault(r.order_id, []).append(
                Refund(id=r.id, **{name: getattr(r, name) for name in _REFUND_FIELDS}))
        return history

    # certificates
    def add_certificate(self, cert: Certificate) -> Certificate:
        """Insert a certificate and its items; its number is derived from the row's serial id."""
        provisional = "~" + secrets.token_hex(12)  # replaced below, inside the same transaction
        values = {name: getattr(cert, name) for name in _CERT_FIELDS}
        values["certificate_no"] = provisional
        cert.id = self.conn.execute(insert(t.certificate).values(**values).returning(t.certificate.c.id)).scalar_one()
        cert.certificate_no = certificate_number(cert.region, shanghai_date(cert.issued_at), cert.id)
        self.conn.execute(update(t.certificate).where(t.certificate.c.id == cert.id)
                          .values(certificate_no=cert.certificate_no))
        rows = [{"certificate_id": cert.id, "payment_id": item.payment_id, "amount_fen": item.amount_fen,
                 "original": not cert.is_reissue} for item in cert.items]
        try:
            ids = self.conn.execute(insert(t.certificate_item).returning(t.certificate_item.c.id,
                                                                         sort_by_parameter_order=True), rows).scalars()
        except IntegrityError:
            # another request certified the same payment a moment earlier (uq_certificate_item_original_payment)
            raise Conflict("certificate_already_issued",
                           "所选费款刚刚已开具过完税证明，如需再次获取请使用补开功能") from None
        for item, item_id in zip(cert.items, ids):
            item.id = item_id
        return cert

    def _certificates(self, *where) -> list[Certificate]:
        c, ci = t.certificate, t.certificate_item
        rows = self.conn.execute(select(c).where(*where).order_by(c.c.issued_at.desc(), c.c.id.desc())).all()
        if not rows:
            return []
        items: dict[int, list[CertificateItem]] = {}
        for r in self.conn.execute(select(ci).where(ci.c.certificate_id.in_([r.id for r in rows])).order_by(ci.c.id)):
            items.setdefault(r.certificate_id, []).append(CertificateItem(id=r.id, payment_id=r.payment_id,
                                                                          amount_fen=r.amount_fen))
        return [Certificate(id=r.id, items=items.get(r.id, []), **{name: getattr(r, name) for name in _CERT_FIELDS})
                for r in rows]

    def get_certificate(self, certificate_no: str) -> Certificate | None:
        found = self._certificates(t.certificate.c.certificate_no == certificate_no)
        return found[0] if found else None

    def get_certificate_by_id(self, certificate_id: int) -> Certificate | None:
        found = self._certificates(t.certificate.c.id == certificate_id)
        return found[0] if found else None

    def find_certificates(self, person_id: int, issued_from: datetime, issued_before: datetime,
                          e_ticket_number: str | None = None) -> list[Certificate]:
        """Certificates for or requested by the person, issued in [from, before), optionally with a ticket on them."""
        c = t.certificate.c
        where = [or_(c.person_id == person_id, c.requested_by_person_id == person_id),
                 c.issued_at >= issued_from, c.issued_at < issued_before]
        if e_ticket_number:
            where.append(exists().where(and_(t.certificate_item.c.certificate_id == c.id,
                                             t.certificate_item.c.payment_id == t.payment.c.id,
                                             t.payment.c.e_ticket_number == e_ticket_number)))
        return self._certificates(*where)
