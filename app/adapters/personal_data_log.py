"""The personal-data access log (PIPL): who read whose decrypted data, what, when and why.

``SqlPersons`` reports every person it decrypts to its unit of work; the unit of work writes
one row per person read — inside its transaction when it commits, or in a transaction of
its own when it ends without committing (a read is a read, even if the request then fails).

Who and why come from the ``AccessContext`` of the current request, job or command
(``accessing(...)`` sets it; ``app/observability`` does so per request and per job). Outside
any (a CLI command) the operator is the OS user (or ``SBF_OPERATOR``) and the purpose the
command line. The table is append-only: the application only inserts, and on PostgreSQL a
trigger refuses UPDATE and DELETE.
"""
from __future__ import annotations

import contextlib
import contextvars
import getpass
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from app.adapters import tables as t


@dataclass(frozen=True)
class AccessContext:
    """Who is reading (resolved when a read happens) and why."""

    who: Callable[[], tuple[str, str]]  # → (accessor kind, accessor)
    purpose: str
    request_id: str | None = None
    client_ip: str | None = None


_current: contextvars.ContextVar[AccessContext | None] = contextvars.ContextVar("personal_data_accessor",
                                                                                 default=None)


@contextlib.contextmanager
def accessing(context: AccessContext) -> Iterator[None]:
    """Reads of personal data inside the block are recorded as made by ``context``."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def set_context(context: AccessContext | None) -> contextvars.Token:
    return _current.set(context)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)


def _command_context() -> AccessContext:
    import click  # the CLI's own name for the running command (flask bureau import-enrollments)

    operator = os.environ.get("SBF_OPERATOR") or getpass.getuser()
    running = click.get_current_context(silent=True)
    command = running.command_path if running is not None else " ".join(sys.argv[:3])
    return AccessContext(who=lambda: ("operator", operator), purpose=f"command: {command}"[:200])


def _rows(reads: dict[int, set[str]]) -> list[dict]:
    context = _current.get() or _command_context()
    kind, who = context.who()
    at = datetime.now(timezone.utc)
    return [{"at": at, "person_id": person_id, "fields": ",".join(sorted(fields)), "accessor_kind": kind,
             "accessor": who[:160], "purpose": context.purpose[:200], "request_id": context.request_id,
             "client_ip": context.client_ip} for person_id, fields in sorted(reads.items())]


_INSERT = insert(t.personal_data_access)  # built once: every request that decrypts a person writes it


class PersonalDataReads:
    """The reads of one unit of work, written once."""

    def __init__(self):
        self.reads: dict[int, set[str]] = {}

    def record(self, person_id: int, fields: tuple[str, ...]) -> None:
        self.reads.setdefault(person_id, set()).update(fields)

    def write(self, conn: Connection) -> None:
        """Insert the pending reads on ``conn`` (inside the caller's transaction)."""
        if self.reads:
            conn.execute(_INSERT, _rows(self.reads))
            self.reads = {}

    def write_alone(self, engine: Engine) -> None:
        """Insert the pending reads in a transaction of their own."""
        if self.reads:
            with engine.begin() as conn:
                self.write(conn)


def query_access_log(engine: Engine, person_id: int | None = None, accessor: str | None = None,
                     since: datetime | None = None, until: datetime | None = None, limit: int = 200) -> list[dict]:
    """The log, newest first, filtered by person, accessor (substring) and time."""
    q = select(t.personal_data_access).order_by(t.personal_data_access.c.id.desc()).limit(limit)
    c = t.personal_data_access.c
    if person_id is not None:
        q = q.where(c.person_id == person_id)
    if accessor:
        q = q.where(c.accessor.contains(accessor))
    if since is not None:
        q = q.where(c.at >= since)
    if until is not None:
        q = q.where(c.at < until)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(q)]
