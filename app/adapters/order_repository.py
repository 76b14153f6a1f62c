"""Orders, their items, posted payments, refunds and the notification log, over SQLAlchemy Core.

Every state change is ``UPDATE ... WHERE id = :id AND state = :expected``; the caller learns
from the row count whether it won. On PostgreSQL a concurrent loser waits for the winner's
commit, re-reads the row and matches nothing, so a payment is posted once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection, Row

from app.adapters import tables as t
from app.domain.orders import Order, OrderItem, Refund

_ORDER_FIELDS = ("order_no", "channel", "channel_user", "payer_person_id", "provider", "method", "amount_fen",
                 "state", "description", "provider_trade_no", "provider_ref", "pay_url", "qr_code", "app_params",
                 "failure_reason", "created_at", "expires_at", "paid_at", "posted_at", "closed_at")
_REFUND_FIELDS = ("refund_no", "order_id", "amount_fen", "reason", "state", "provider_refund_no", "created_at",
                  "finished_at")


class SqlOrders:
    def __init__(self, conn: Connection, on_move: Callable[[tuple[str, str]], None] | None = None):
        self.conn = conn
        self.on_move = on_move  # told (expected, new) after each won compare-and-set (the metrics)

    def _order(self, row: Row) -> Order:
        order = Order(id=row.id, **{name: getattr(row, name) for name in _ORDER_FIELDS})
        order.items = [OrderItem(id=r.id, assessment_id=r.assessment_id, person_id=r.person_id,
                                 amount_fen=r.amount_fen, live=r.live)
                       for r in self.conn.execute(select(t.order_item).where(t.order_item.c.order_id == row.id)
                                                  .order_by(t.order_item.c.id))]
        return order

    def add(self, order: Order) -> Order:
        order.id = self.conn.execute(insert(t.payment_order).values(
            version=0, **{name: getattr(order, name) for name in _ORDER_FIELDS})
            .returning(t.payment_order.c.id)).scalar_one()
        self.conn.execute(insert(t.order_item), [
            {"order_id": order.id, "assessment_id": i.assessment_id, "person_id": i.person_id,
             "amount_fen": i.amount_fen, "live": True} for i in order.items])
        return order

    def get_by_no(self, order_no: str) -> Order | None:
        row = self.conn.execute(select(t.payment_order).where(t.payment_order.c.order_no == order_no)).first()
        return self._order(row) if row else None

    def get(self, order_id: int) -> Order | None:
        row = self.conn.execute(select(t.payment_order).where(t.payment_order.c.id == order_id)).first()
        return self._order(row) if row else None

    def move(self, order_id: int, expected: str | tuple[str, ...], new: str, **values) -> bool:
        """Compare-and-set the order's state; True when this call made the move."""
        expected = (expected,) if isinstance(expected, str) else expected
        result = self.conn.execute(update(t.payment_order)
                                   .where(t.payment_order.c.id == order_id, t.payment_order.c.state.in_(expected))
                                   .values(state=new, version=t.payment_order.c.version + 1, **values))
        if result.rowcount == 1 and self.on_move is not None:
            self.on_move(("|".join(expected), new))
        return result.rowcount == 1

    def release_items(self, order_id: int) -> list[int]:
        """Take the order's items out of play; returns the assessments they held."""
        ids = [r.assessment_id for r in self.conn.execute(
            select(t.order_item.c.assessment_id).where(t.order_item.c.order_id == order_id, t.order_item.c.live))]
        self.conn.execute(update(t.order_item).where(t.order_item.c.order_id == order_id, t.order_item.c.live)
                          .values(live=False))
        return ids

    def live_assessment_ids(self, order_id: int) -> list[int]:
        return [r.assessment_id for r in self.conn.execute(
            select(t.order_item.c.assessment_id).where(t.order_item.c.order_id == order_id, t.order_item.c.live))]

    def list_in_states(self, states: tuple[str, ...], created_before: datetime, limit: int) -> list[Order]:
        rows = self.conn.execute(select(t.payment_order).where(t.payment_order.c.state.in_(states),
                                                               t.payment_order.c.created_at < created_before)
                                 .order_by(t.payment_order.c.id).limit(limit))
        return [self._order(r) for r in rows]

    def list_for_persons(self, person_ids: list[int], channel_user: str | None = None, limit: int = 200) -> list[Order]:
        """Orders paying for these persons, or paid by this channel user (代他人缴费 included)."""
        ids = select(t.order_item.c.order_id).where(t.order_item.c.person_id.in_(person_ids))
        cond = t.payment_order.c.id.in_(ids)
        if channel_user:
            cond = cond | (t.payment_order.c.channel_user == channel_user)
        rows = self.conn.execute(select(t.payment_order).where(cond).order_by(t.payment_order.c.id.desc()).limit(limit))
        return [self._order(r) for r in rows]

    # posted money
    def add_payments(self, order_id: int, tickets: dict[int, str], amounts: dict[int, int], at: datetime) -> None:
        self.conn.execute(insert(t.payment), [
            {"order_id": order_id, "assessment_id": aid, "e_ticket_number": tickets[aid], "amount_fen": amounts[aid],
             "posted_at": at} for aid in tickets])

    def payments_of(self, order_id: int) -> dict[int, str]:
        return {r.assessment_id: r.e_ticket_number for r in self.conn.execute(
            select(t.payment.c.assessment_id, t.payment.c.e_ticket_number).where(t.payment.c.order_id == order_id))}

    # refunds
    def add_refund(self, refund: Refund) -> Refund:
        refund.id = self.conn.execute(insert(t.refund).values(
            **{name: getattr(refund, name) for name in _REFUND_FIELDS}).returning(t.refund.c.id)).scalar_one()
        return refund

    def refunds_of(self, order_id: int) -> list[Refund]:
        rows = self.conn.execute(select(t.refund).where(t.refund.c.order_id == order_id).order_by(t.refund.c.id))
        return [Refund(id=r.id, **{name: getattr(r, name) for name in _REFUND_FIELDS}) for r in rows]

    def get_refund(self, refund_no: str) -> Refund | None:
        row = self.conn.execute(select(t.refund).where(t.refund.c.refund_no == refund_no)).first()
        return Refund(id=row.id, **{name: getattr(row, name) for name in _REFUND_FIELDS}) if row else None

    def move_refund(self, refund_id: int, expected: str, new: str, **values) -> bool:
        result = self.conn.execute(update(t.refund).where(and_(t.refund.c.id == refund_id, t.refund.c.state == expected))
                                   .values(state=new, **values))
        return result.rowcount == 1

    def pending_refunds(self, limit: int) -> list[Refund]:
        rows = self.conn.execute(select(t.refund).where(t.refund.c.state == "pending").order_by(t.refund.c.id)
                                 .limit(limit))
        return [Refund(id=r.id, **{name: getattr(r, name) for name in _REFUND_FIELDS}) for r in rows]

    # the notification log: every notification, trusted or not
    def log_notification(self, provider: str, order_no: str | None, outcome: str, detail: str, at: datetime) -> None:
        self.conn.execute(insert(t.notification_log).values(provider=provider, order_no=order_no, outcome=outcome,
                                                            detail=detail[:300], received_at=at))
