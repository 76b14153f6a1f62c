"""Orders, their items, posted payments, refunds and the notification log, over SQLAlchemy Core.

An order is saved as ``UPDATE ... WHERE id = :id AND version = :read_version`` with the
changes its methods noted (``Order.changes``); a refund as ``... AND state = :read_state``. The
caller learns from the row count whether it won. Settlement also reads the order ``FOR
UPDATE`` (PostgreSQL), so a concurrent duplicate notification waits for the winner's commit
and then reads the posted order: a payment is posted once, and the loser never mistakes the
race for a reason to refund.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import String, and_, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from app.adapters import tables as t
from app.domain.orders import (E_TICKET_SERIAL_DIGITS, SUCCEEDED, Order, OrderItem, Refund, e_ticket_number,
                               e_ticket_prefix)

_ORDER_FIELDS = ("order_no", "channel", "channel_user", "payer_person_id", "provider", "method", "amount_fen",
                 "state", "description", "provider_trade_no", "provider_ref", "pay_url", "qr_code", "app_params",
                 "failure_reason", "created_at", "expires_at", "paid_at", "posted_at", "closed_at")
_REFUND_FIELDS = ("refund_no", "order_id", "amount_fen", "reason", "state", "provider_refund_no", "created_at",
                  "finished_at")
TICKET_TRIES = 3  # a serial that wrapped onto a number already given that day: draw again

# The statements a notification or an order runs every time are built once, here: building a
# statement and its cache key costs more Python than running it (the values travel as parameters).
_o, _i, _p = t.payment_order.c, t.order_item.c, t.payment.c
_LOAD = (select(t.payment_order, _i.id.label("item_id"), _i.assessment_id, _i.person_id.label("item_person_id"),
                _i.amount_fen.label("item_amount_fen"), _i.late_fee_fen, _i.live)
         .select_from(t.payment_order.outerjoin(t.order_item, _i.order_id == _o.id)).order_by(_i.id))
_LOAD_BY_NO = _LOAD.where(_o.order_no == bindparam("w_order_no"))
_LOAD_BY_NO_FOR_UPDATE = _LOAD_BY_NO.with_for_update(of=t.payment_order)
_LOAD_BY_ID = _LOAD.where(_o.id == bindparam("w_order_id"))
_ADD_ORDER = insert(t.payment_order).returning(_o.id)
# the assessment's period_start goes with its id (the foreign key into the partitioned assessments)
_ADD_ITEMS = insert(t.order_item).values(assessment_period_start=t.period_start_of(bindparam("w_assessment_id")))
# SET from the parameters' column names (the changes an order noted), compare-and-set on the version read
_SAVE_ORDER = update(t.payment_order).where(_o.id == bindparam("w_id"), _o.version == bindparam("w_version"))
_PAYMENTS_OF = select(_p.assessment_id, _p.e_ticket_number, _p.kind).where(_p.order_id == bindparam("w_order_id"))
_REFUNDS_OF = select(t.refund).where(t.refund.c.order_id == bindparam("w_order_id")).order_by(t.refund.c.id)
_LOG_NOTIFICATION = insert(t.notification_log).inline()  # the new id is never read: no RETURNING
# the assessment's period_start goes with its id (the foreign key into the partitioned assessments)
_PERIOD_START = t.period_start_of(bindparam("w_assessment_id"))
# SQLite: the serials are read first (one writer), the numbers made here. PostgreSQL: each row's
# INSERT draws its serial from the sequence and appends it to the prefix made here (the same digits
# as e_ticket_number), one round trip instead of two.
_LAST_PAYMENT_ID = select(func.coalesce(func.max(_p.id), 0))
_NEXT_SERIAL = literal_column(f"lpad((nextval('e_ticket_serial') % {10 ** E_TICKET_SERIAL_DIGITS})::text, "
                              f"{E_TICKET_SERIAL_DIGITS}, '0')")
_ADD_PAYMENTS = {name: statement.on_conflict_do_nothing(index_elements=["e_ticket_number"])
                 .returning(_p.assessment_id, _p.e_ticket_number) for name, statement in (
                     ("postgresql", postgresql.insert(t.payment).values(
                         assessment_period_start=_PERIOD_START,
                         e_ticket_number=bindparam("ticket_prefix", type_=String()).concat(_NEXT_SERIAL))),
                     ("sqlite", sqlite.insert(t.payment).values(assessment_period_start=_PERIOD_START)))}


class SqlOrders:
    def __init__(self, conn: Connection, on_move: Callable[[tuple[str, str]], None] | None = None):
        self.conn = conn
        self.on_move = on_move  # told (from, to) of each move a save persisted (the metrics)

    def _order(self, row: Row) -> Order:
        order = Order(id=row.id, version=row.version, **{name: getattr(row, name) for name in _ORDER_FIELDS})
        order.items = [OrderItem(id=r.id, assessment_id=r.assessment_id, person_id=r.person_id,
                                 amount_fen=r.amount_fen, live=r.live, late_fee_fen=r.late_fee_fen)
                       for r in self.conn.execute(select(t.order_item).where(t.order_item.c.order_id == row.id)
                                                  .order_by(t.order_item.c.id))]
        return order

    def add(self, order: Order) -> Order:
        order.id = self.conn.execute(_ADD_ORDER, {"version": 0, **{name: getattr(order, name)
                                                                  for name in _ORDER_FIELDS}}).scalar_one()
        self.conn.execute(_ADD_ITEMS, [
            {"order_id": order.id, "assessment_id": i.assessment_id, "w_assessment_id": i.assessment_id,
             "person_id": i.person_id, "amount_fen": i.amount_fen, "late_fee_fen": i.late_fee_fen, "live": True}
            for i in order.items])
        order.version, order.changes, order.moves = 0, {}, []
        return order

    def get_by_no(self, order_no: str, for_update: bool = False) -> Order | None:
        return self._load(_LOAD_BY_NO_FOR_UPDATE if for_update else _LOAD_BY_NO, {"w_order_no": order_no})

    def get(self, order_id: int) -> Order | None:
        return self._load(_LOAD_BY_ID, {"w_order_id": order_id})

    def _load(self, query, params: dict) -> Order | None:
        """The order and its items in one round trip (settlement runs this once per notification)."""
        rows = self.conn.execute(query, params).all()
        if not rows:
            return None
        first = rows[0]
        order = Order(id=first.id, version=first.version, **{name: getattr(first, name) for name in _ORDER_FIELDS})
        order.items = [OrderItem(id=r.item_id, assessment_id=r.assessment_id, person_id=r.item_person_id,
                                 amount_fen=r.item_amount_fen, live=r.live, late_fee_fen=r.late_fee_fen)
                       for r in rows if r.item_id is not None]
        return order

    def save(self, order: Order) -> bool:
        """Persist the moves the order made since it was read; False when another writer got there first."""
        if not order.changes:
            return True
        result = self.conn.execute(_SAVE_ORDER, {"w_id": order.id, "w_version": order.version,
                                                 "version": order.version + 1, **order.changes})
        if result.rowcount != 1:
            return False
        if self.on_move is not None:
            for move in order.moves:
                self.on_move(move)
        order.version, order.changes, order.moves = order.version + 1, {}, []
        return True

    def release_items(self, order_id: int) -> list[int]:
        """Take the order's items out of play; returns the assessments they held."""
        rows = self.conn.execute(update(t.order_item).where(t.order_item.c.order_id == order_id, t.order_item.c.live)
                                 .values(live=False).returning(t.order_item.c.assessment_id))
        return [r.assessment_id for r in rows]

    def list_for_persons(self, person_ids: list[int], channel_user: str | None = None, limit: int = 200) -> list[Order]:
        """Orders paying for these persons, or paid by this channel user (代他人缴费 included)."""
        ids = select(t.order_item.c.order_id).where(t.order_item.c.person_id.in_(person_ids))
        cond = t.payment_order.c.id.in_(ids)
        if channel_user:
            cond = cond | (t.payment_order.c.channel_user == channel_user)
        rows = self.conn.execute(select(t.payment_order).where(cond).order_by(t.payment_order.c.id.desc()).limit(limit))
        return [self._order(r) for r in rows]

    def oldest_debited_unposted(self) -> datetime | None:
        """When the oldest order we know was debited, and is neither posted nor being refunded, was paid."""
        return self.conn.execute(select(func.min(t.payment_order.c.paid_at))
                                 .where(t.payment_order.c.state == SUCCEEDED)).scalar()

    # posted money
    def add_payments(self, order_id: int, items: list[tuple[int, str, int]], at: datetime,
                     kind: str = "fee") -> dict[int, str]:
        """Post (assessment id, region, amount) items with new e-ticket numbers; returns them by assessment.

        ``kind`` is fee, or late_fee (滞纳金): an assessment's late fee is a payment of its own.

        The serial comes from a sequence (no two requests wait on each other); the unique index
        guards the numbers: a row whose number is taken (the 7-digit serial wrapped within a
        region's day) is skipped by ``ON CONFLICT DO NOTHING`` and drawn again, so a collision
        never fails the posting.
        """
        day = at.strftime("%y%m%d")
        tickets: dict[int, str] = {}
        pending = list(items)
        postgres = self.conn.dialect.name == "postgresql"
        statement = _ADD_PAYMENTS["postgresql" if postgres else "sqlite"]
        for _ in range(TICKET_TRIES):
            if postgres:  # each row's INSERT draws its serial
                numbers = [{"ticket_prefix": e_ticket_prefix(region, day)} for _, region, _ in pending]
            else:  # one writer: the serials follow the last payment's id
                start = self.conn.execute(_LAST_PAYMENT_ID).scalar_one()
                numbers = [{"e_ticket_number": e_ticket_number(region, day, start + 1 + i)}
                           for i, (_, region, _) in enumerate(pending)]
            rows = [{"order_id": order_id, "assessment_id": aid, "w_assessment_id": aid, "kind": kind,
                     "amount_fen": amount, "posted_at": at, **number}
                    for (aid, _, amount), number in zip(pending, numbers)]
            # executemany over one statement, built once
            tickets.update({r.assessment_id: r.e_ticket_number for r in self.conn.execute(statement, rows)})
            pending = [item for item in pending if item[0] not in tickets]
            if not pending:
                return tickets
        raise RuntimeError(f"no free e-ticket number after {TICKET_TRIES} draws")

    def payments_of(self, order_id: int, kind: str = "fee") -> dict[int, str]:
        return self.payments_by_kind(order_id).get(kind, {})

    def payments_by_kind(self, order_id: int) -> dict[str, dict[int, str]]:
        """kind → {assessment id: e-ticket number} of the order's payments, in one round trip."""
        found: dict[str, dict[int, str]] = {}
        for r in self.conn.execute(_PAYMENTS_OF, {"w_order_id": order_id}):
            found.setdefault(r.kind, {})[r.assessment_id] = r.e_ticket_number
        return found

    # refunds
    def add_refund(self, refund: Refund) -> Refund:
        refund.id = self.conn.execute(insert(t.refund).values(
            **{name: getattr(refund, name) for name in _REFUND_FIELDS}).returning(t.refund.c.id)).scalar_one()
        return refund

    def refunds_of(self, order_id: int) -> list[Refund]:
        return [self._refund(r) for r in self.conn.execute(_REFUNDS_OF, {"w_order_id": order_id})]

    def get_refund(self, refund_no: str) -> Refund | None:
        row = self.conn.execute(select(t.refund).where(t.refund.c.refund_no == refund_no)).first()
        return self._refund(row) if row else None

    def save_refund(self, refund: Refund) -> bool:
        """Persist a refund's move as a compare-and-set on the state it was read in."""
        if refund.read_state is None:
            return True
        result = self.conn.execute(update(t.refund).where(and_(t.refund.c.id == refund.id,
                                                               t.refund.c.state == refund.read_state))
                                   .values(state=refund.state, finished_at=refund.finished_at,
                                           provider_refund_no=refund.provider_refund_no))
        if result.rowcount != 1:
            return False
        refund.read_state = None
        return True

    @staticmethod
    def _refund(row: Row) -> Refund:
        return Refund(id=row.id, **{name: getattr(row, name) for name in _REFUND_FIELDS})

    # the notification log: every notification, trusted or not; the verified ones with their body
    def log_notification(self, provider: str, order_no: str | None, outcome: str, detail: str, at: datetime,
                         body: dict | None = None) -> None:
        self.conn.execute(_LOG_NOTIFICATION, {"provider": provider, "order_no": order_no, "outcome": outcome,
                                              "detail": detail[:300], "received_at": at, "body": body})

    def notifications_of(self, order_no: str) -> list[dict]:
        """The notifications kept for an order, oldest first (for replay and disputes)."""
        rows = self.conn.execute(select(t.notification_log).where(t.notification_log.c.order_no == order_no)
                                 .order_by(t.notification_log.c.id))
        return [{"provider": r.provider, "outcome": r.outcome, "detail": r.detail, "received_at": r.received_at,
                 "body": r.body} for r in rows]



