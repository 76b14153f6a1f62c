"""Refund applications and their items (SQLAlchemy Core).

An application is saved as a compare-and-set on the version it was read at. Its items hold
their assessments through a partial unique index (``live``): two applications racing for the
same fee both reach the database and one of them is refused there, whatever the services
checked before. A rejected application lets its items go (``live`` false) in the same update.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from app.adapters import tables as t
from app.adapters.integrity import broke
from app.adapters.lookback_repository import _A, _build
from app.domain.errors import Conflict
from app.domain.model import Assessment
from app.domain.refund_applications import REJECTED, Payout, Refundable, RefundApplication, RefundItem

_FIELDS = ("application_no", "person_id", "applicant_account_id", "channel", "insurance", "reason_type", "reason_text",
           "bank_account_id", "state", "accepted_by", "accepted_at", "approved_by", "approved_at", "decided_reason",
           "created_at", "finished_at")
# an item carries its assessment's period_start (the foreign key into the partitioned assessments)
_ADD_ITEMS = insert(t.refund_application_item).values(
    assessment_period_start=t.period_start_of(bindparam("w_assessment_id")))
HELD = ("refund_item_applied", "所选费款已在退费申请中，不能重复申请")


class SqlRefundApplications:
    def __init__(self, conn: Connection):
        self.conn = conn

    def _application(self, row: Row) -> RefundApplication:
        i = t.refund_application_item
        items = [RefundItem(id=r.id, assessment_id=r.assessment_id, payment_id=r.payment_id, order_no=r.order_no,
                            amount_fen=r.amount_fen)
                 for r in self.conn.execute(select(i).where(i.c.application_id == row.id).order_by(i.c.id))]
        return RefundApplication(**{f: getattr(row, f) for f in _FIELDS}, id=row.id, version=row.version,
                                 items=items, payouts=[Payout.from_dict(p) for p in row.payouts or []])

    def add(self, a: RefundApplication) -> RefundApplication:
        """Insert with its items; Conflict when another live application holds one of them."""
        values = {f: getattr(a, f) for f in _FIELDS}
        try:
            with self.conn.begin_nested():
                a.id = self.conn.execute(insert(t.refund_application).values(
                    **values, total_fen=a.total_fen, payouts=[], updated_at=a.created_at, version=0)
                    .returning(t.refund_application.c.id)).scalar_one()
                self.conn.execute(_ADD_ITEMS, [
                    {"application_id": a.id, "assessment_id": i.assessment_id, "w_assessment_id": i.assessment_id,
                     "payment_id": i.payment_id,
                     "order_no": i.order_no, "amount_fen": i.amount_fen, "live": True} for i in a.items])
        except IntegrityError as error:
            if broke(error, "uq_refund_application_item_live_assessment", ("assessment_id",)):
                raise Conflict(*HELD, field="items") from None
            raise
        return a

    def get_by_no(self, application_no: str) -> RefundApplication | None:
        row = self.conn.execute(select(t.refund_application).where(
            t.refund_application.c.application_no == application_no)).first()
        return self._application(row) if row else None

    def save(self, a: RefundApplication, now: datetime) -> bool:
        """Compare-and-set on the version read; True when this save won."""
        ra = t.refund_application
        done = self.conn.execute(update(ra).where(ra.c.id == a.id, ra.c.version == a.version).values(
            state=a.state, accepted_by=a.accepted_by, accepted_at=a.accepted_at, approved_by=a.approved_by,
            approved_at=a.approved_at, decided_reason=a.decided_reason, bank_account_id=a.bank_account_id,
            payouts=[p.as_dict() for p in a.payouts], finished_at=a.finished_at, updated_at=now,
            version=a.version + 1)).rowcount == 1
        if done:
            a.version += 1
            a.moves.clear()
            if a.state == REJECTED:
                i = t.refund_application_item
                self.conn.execute(update(i).where(i.c.application_id == a.id).values(live=False))
        return done

    def list_for_persons(self, person_ids: list[int], limit: int = 100) -> list[RefundApplication]:
        ra = t.refund_application
        rows = self.conn.execute(select(ra).where(ra.c.person_id.in_(person_ids))
                                 .order_by(ra.c.created_at.desc(), ra.c.id.desc()).limit(limit)).all()
        return [self._application(r) for r in rows]

    def list_in_states(self, states: tuple[str, ...], limit: int = 200) -> list[RefundApplication]:
        ra = t.refund_application
        rows = self.conn.execute(select(ra).where(ra.c.state.in_(states))
                                 .order_by(ra.c.created_at, ra.c.id).limit(limit)).all()
        return [self._application(r) for r in rows]

    def refundables(self, person_id: int, insurance: str | None, period_start: date | None = None,
                    period_end: date | None = None, assessment_ids: list[int] | None = None) -> list[Refundable]:
        """The person's posted fees (not late fees) with their order; ``held`` when a live application has them."""
        p, o, a, i = t.payment, t.payment_order, t.assessment, t.refund_application_item
        held = select(i.c.id).where(i.c.assessment_id == a.c.id, i.c.live).exists()
        query = (select(p.c.id.label("payment_id"), p.c.e_ticket_number, p.c.amount_fen, p.c.posted_at,
                        o.c.order_no, o.c.provider, o.c.paid_at, held.label("held"),
                        *[c.label(_A + c.name) for c in a.c])
                 .select_from(p.join(o, o.c.id == p.c.order_id).join(a, a.c.id == p.c.assessment_id))
                 .where(a.c.person_id == person_id, p.c.kind == "fee"))
        if insurance:
            query = query.where(a.c.insurance == insurance)
        if period_start and period_end:
            query = query.where(a.c.period_start <= period_end, a.c.period_end >= period_start)
        if assessment_ids is not None:
            query = query.where(a.c.id.in_(assessment_ids))
        rows = self.conn.execute(query.order_by(a.c.period_start, p.c.id)).all()
        return [Refundable(assessment=_build(Assessment, {k[len(_A):]: v for k, v in r._mapping.items()
                                                          if k.startswith(_A)}),
                           payment_id=r.payment_id, e_ticket_number=r.e_ticket_number, amount_fen=r.amount_fen,
                           posted_at=r.posted_at, order_no=r.order_no, provider=r.provider, paid_at=r.paid_at,
                           held=bool(r.held)) for r in rows]
