"""What the back office reads in SQL: the money exceptions, their evidence, resolved cases, and
the collections report (set-based: one GROUP BY over posted payments, never a Python loop).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, Engine, String, and_, cast, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.adapters import tables as t
from app.domain.zone import SHANGHAI, UTC

# notification outcomes that mean "refused or not matching": the ones an operator must look at
REJECTED_OUTCOMES = ("rejected", "unknown_order", "provider_mismatch", "amount_mismatch", "refund_mismatch")


def _rows(result) -> list[dict]:
    return [dict(r._mapping) for r in result]


class SqlBackofficeReads:
    def __init__(self, engine: Engine):
        self.engine = engine

    def _unresolved(self, kind: str, key_column):
        c = t.backoffice_case.c
        return ~select(c.id).where(c.kind == kind, c.key == key_column).exists()

    def debited_unposted(self, limit: int = 200) -> list[dict]:
        o = t.payment_order.c
        q = (select(o.order_no, o.provider, o.channel, o.method, o.amount_fen, o.state, o.failure_reason,
                    o.provider_trade_no, o.created_at, o.paid_at, o.closed_at)
             .where(or_(o.state.in_(("succeeded", "refunding")),
                        and_(o.state == "refunded", o.failure_reason.is_not(None))),
                    self._unresolved("debited_unposted", o.order_no))
             .order_by(o.paid_at.nulls_last(), o.id).limit(limit))
        with self.engine.connect() as conn:
            return _rows(conn.execute(q))

    def failed_refunds(self, limit: int = 200) -> list[dict]:
        r, o = t.refund.c, t.payment_order.c
        q = (select(r.refund_no, r.amount_fen, r.reason, r.state, r.created_at, r.finished_at, o.order_no, o.provider)
             .select_from(t.refund.join(t.payment_order, o.id == r.order_id))
             .where(r.state == "failed", self._unresolved("refund_failed", r.refund_no)).order_by(r.id).limit(limit))
        with self.engine.connect() as conn:
            return _rows(conn.execute(q))

    def rejected_notifications(self, limit: int = 200) -> list[dict]:
        n = t.notification_log.c
        q = (select(n.id, n.provider, n.order_no, n.outcome, n.detail, n.received_at, n.body)
             .where(n.outcome.in_(REJECTED_OUTCOMES),
                    self._unresolved("notification", cast(n.id, String)))
             .order_by(n.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return _rows(conn.execute(q))

    def notification(self, notification_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.notification_log).where(t.notification_log.c.id == notification_id)).first()
        return dict(row._mapping) if row else None

    def resolved_keys(self, kind: str) -> set[str]:
        c = t.backoffice_case.c
        with self.engine.connect() as conn:
            return set(conn.execute(select(c.key).where(c.kind == kind)).scalars())

    def resolve_case(self, kind: str, key: str, by: str, note: str, at: datetime) -> bool:
        values = {"kind": kind, "key": key, "resolved_by": by, "note": note, "resolved_at": at}
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                done = conn.execute(pg_insert(t.backoffice_case).values(**values).on_conflict_do_nothing()
                                    .returning(t.backoffice_case.c.id))
                return done.first() is not None
            if conn.execute(select(t.backoffice_case.c.id).where(t.backoffice_case.c.kind == kind,
                                                                  t.backoffice_case.c.key == key)).first():
                return False
            conn.execute(insert(t.backoffice_case).values(**values))
            return True

    def case(self, kind: str, key: str) -> dict | None:
        c = t.backoffice_case.c
        with self.engine.connect() as conn:
            row = conn.execute(select(t.backoffice_case).where(c.kind == kind, c.key == key)).first()
        return dict(row._mapping) if row else None

    def order_evidence(self, order_no: str) -> dict | None:
        """The order, its items, payments, refunds and notifications (raw, personal data stripped)."""
        o = t.payment_order.c
        with self.engine.connect() as conn:
            order = conn.execute(select(t.payment_order).where(o.order_no == order_no)).first()
            if order is None:
                return None
            oid = order.id
            items = _rows(conn.execute(select(t.order_item.c.assessment_id, t.order_item.c.amount_fen,
                                              t.order_item.c.live, t.assessment.c.insurance, t.assessment.c.region,
                                              t.assessment.c.period_start, t.assessment.c.state)
                                       .select_from(t.order_item.join(t.assessment,
                                                                      t.assessment.c.id == t.order_item.c.assessment_id))
                                       .where(t.order_item.c.order_id == oid)))
            payments = _rows(conn.execute(select(t.payment.c.e_ticket_number, t.payment.c.amount_fen,
                                                 t.payment.c.kind, t.payment.c.posted_at)
                                          .where(t.payment.c.order_id == oid)))
            refunds = _rows(conn.execute(select(t.refund.c.refund_no, t.refund.c.amount_fen, t.refund.c.reason,
                                                t.refund.c.state, t.refund.c.created_at, t.refund.c.finished_at)
                                         .where(t.refund.c.order_id == oid)))
            notes = _rows(conn.execute(select(t.notification_log).where(t.notification_log.c.order_no == order_no)
                                       .order_by(t.notification_log.c.id)))
        data = dict(order._mapping)
        for private in ("channel_user", "payer_person_id", "pay_url", "qr_code", "app_params"):
            data.pop(private, None)
        return {"order": data, "items": items, "payments": payments, "refunds": refunds, "notifications": notes}

    def collections(self, start: date, end: date, dimension: str) -> list[dict]:
        """Posted money per ``dimension`` (day, region, insurance, channel, provider) over [start, end]."""
        p, a, o = t.payment.c, t.assessment.c, t.payment_order.c
        since = datetime.combine(start, time(), SHANGHAI).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
        with self.engine.connect() as conn:
            if dimension == "day":
                if conn.dialect.name == "postgresql":
                    key = cast(func.timezone("Asia/Shanghai", p.posted_at), Date)
                else:
                    key = func.date(p.posted_at, "+8 hours")
            else:
                key = {"region": a.region, "insurance": a.insurance, "channel": o.channel,
                       "provider": o.provider}[dimension]
            q = (select(key.label("key"), func.count().label("count"), func.sum(p.amount_fen).label("amount_fen"))
                 .select_from(t.payment.join(t.assessment, a.id == p.assessment_id)
                              .join(t.payment_order, o.id == p.order_id))
                 .where(p.posted_at >= since, p.posted_at < until).group_by(key).order_by(key))
            return [{"key": str(r.key), "count": int(r.count), "amount_fen": int(r.amount_fen or 0)}
                    for r in conn.execute(q)]

