"""Provider calls over SQLAlchemy Core: schedule (insert or re-arm), claim a page, save, list.

Claiming is how a worker takes due calls: on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets
several workers take disjoint pages; the claim pushes ``next_attempt_at`` past a lease and
counts the attempt, in its own short transaction, before any provider is called. A worker
killed after that leaves the call due again when the lease ends. Saving is a
compare-and-set on the state and attempt count the call was claimed with, so a worker that
outlived its lease cannot overwrite the one that took the call over.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from app.adapters import tables as t
from app.domain.calls import EXCEPTION, PENDING, ProviderCall

_FIELDS = ("kind", "provider", "key", "order_no", "state", "step", "attempts", "next_attempt_at", "request",
           "answer", "outcome", "last_error", "created_at", "finished_at")
_REARMED = ("state", "step", "next_attempt_at", "request", "finished_at")


def _schedule_statement(dialect):
    """Insert, or re-arm the row of the same kind and key; built once per dialect, its values parameters.

    One row per statement: SQLAlchemy cannot cache a multi-row VALUES, and compiling it each time
    cost more than the round trip it saved.
    """
    statement = dialect.insert(t.provider_call)
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={**{name: statement.excluded[name] for name in _REARMED}, "updated_at": statement.excluded.updated_at})
    return statement.returning(t.provider_call.c.id)


_SCHEDULE = {"postgresql": _schedule_statement(postgresql), "sqlite": _schedule_statement(sqlite)}
_c = t.provider_call.c
_SAVED = tuple(name for name in _FIELDS if name not in ("kind", "key"))
# compare-and-set on the state (and, for a claimed call, the attempt count) it was read with; SET from the
# parameters' column names
_SAVE = {True: update(t.provider_call).where(_c.id == bindparam("w_id"), _c.state == bindparam("w_state"),
                                             _c.attempts == bindparam("w_attempts")),
         False: update(t.provider_call).where(_c.id == bindparam("w_id"), _c.state == bindparam("w_state"))}
_GET = select(t.provider_call).where(t.provider_call.c.kind == bindparam("w_kind"),
                                     t.provider_call.c.key == bindparam("w_key"))


class SqlProviderCalls:
    def __init__(self, conn: Connection):
        self.conn = conn

    def schedule(self, call: ProviderCall) -> None:
        """Record a call before it is made; the same kind and key again re-arms the one row (attempts kept)."""
        self.schedule_many([call])

    def schedule_many(self, calls: list[ProviderCall]) -> None:
        """``schedule`` for several calls of different kinds or keys, each by the one prebuilt statement."""
        statement = _SCHEDULE["postgresql" if self.conn.dialect.name == "postgresql" else "sqlite"]
        if len({(call.kind, call.key) for call in calls}) != len(calls):
            raise ValueError("calls scheduled together must differ in kind or key")
        for call in calls:
            call.id = self.conn.execute(statement, {"updated_at": call.created_at,
                                                    **{name: getattr(call, name) for name in _FIELDS}}).scalar_one()
            call.read_state, call.read_attempts = call.state, None

    def get(self, kind: str, key: str) -> ProviderCall | None:
        row = self.conn.execute(_GET, {"w_kind": kind, "w_key": key}).first()
        return self._call(row) if row else None

    def get_by_id(self, call_id: int) -> ProviderCall | None:
        row = self.conn.execute(select(t.provider_call).where(t.provider_call.c.id == call_id)).first()
        return self._call(row) if row else None

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[ProviderCall]:
        """Take up to ``limit`` due calls, most overdue first; each counts one attempt and is leased."""
        c = t.provider_call.c
        query = (select(t.provider_call).where(c.state == PENDING, c.next_attempt_at <= now)
                 .order_by(c.next_attempt_at, c.id).limit(limit))
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        calls = [self._call(r) for r in self.conn.execute(query)]
        if calls:
            self.conn.execute(update(t.provider_call).where(c.id.in_([x.id for x in calls]))
                              .values(attempts=c.attempts + 1, next_attempt_at=lease_until, updated_at=now))
        for call in calls:
            call.attempts += 1
            call.read_attempts, call.next_attempt_at = call.attempts, lease_until
        return calls

    def save(self, call: ProviderCall, now: datetime) -> bool:
        """Persist what an attempt learned; False when the call moved on meanwhile (another worker took it)."""
        claimed = call.read_attempts is not None
        params = {"w_id": call.id, "w_state": call.read_state, "updated_at": now,
                  **{name: getattr(call, name) for name in _SAVED}}
        if claimed:
            params["w_attempts"] = call.read_attempts
        result = self.conn.execute(_SAVE[claimed], params)
        if result.rowcount != 1:
            return False
        call.read_state, call.read_attempts = call.state, call.attempts
        return True

    def list_in_state(self, state: str, limit: int, after_id: int = 0) -> list[ProviderCall]:
        c = t.provider_call.c
        rows = self.conn.execute(select(t.provider_call).where(c.state == state, c.id > after_id)
                                 .order_by(c.id).limit(limit))
        return [self._call(r) for r in rows]

    def for_order(self, order_no: str) -> list[ProviderCall]:
        rows = self.conn.execute(select(t.provider_call).where(t.provider_call.c.order_no == order_no)
                                 .order_by(t.provider_call.c.id))
        return [self._call(r) for r in rows]

    def oldest_due(self, now: datetime) -> datetime | None:
        """When the most overdue pending call fell due (None when nothing is due)."""
        c = t.provider_call.c
        return self.conn.execute(select(func.min(c.next_attempt_at))
                                 .where(c.state == PENDING, c.next_attempt_at <= now)).scalar()

    def count_exceptions(self) -> int:
        return self.conn.execute(select(func.count()).select_from(t.provider_call)
                                 .where(t.provider_call.c.state == EXCEPTION)).scalar_one()

    @staticmethod
    def _call(row: Row) -> ProviderCall:
        call = ProviderCall(id=row.id, **{name: getattr(row, name) for name in _FIELDS})
        call.read_state, call.read_attempts = call.state, call.attempts
        return call


__all__ = ["SqlProviderCalls"]
