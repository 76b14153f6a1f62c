"""Sending reminders (催缴提醒) and what the bureau sees of them.

One run: find the assessments falling due within ``DAYS_BEFORE`` days and the batch-debit lines
that failed, pick each payer's channel (the one they last came through: WeChat → a subscribe
message, Alipay → an Alipay message, otherwise an SMS to the phone on record), skip those who
opted out, and send. Each reminder is recorded *before* it is sent, once per (kind, key), so a
second run sends nothing twice and a crash leaves a row in ``sending`` for the bureau to see.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol

from app.domain import reminders as rules
from app.domain.accounts import mask_phone
from app.domain.channels import mask_channel_user
from app.domain.money import yuan
from app.domain.policy import INSURANCE_LABELS
from app.domain.zone import shanghai_date
from app.services.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class Due:
    """Something to remind a person of: an unpaid assessment, or a failed batch-debit line."""

    kind: str
    key: str
    person_id: int
    insurance: str
    period_end: object  # date
    amount_fen: int
    reason: str = ""


class ReminderStore(Protocol):
    def due_assessments(self, period_end_from: object, period_end_to: object) -> list[Due]:
        """Unpaid assessments (declared, not in a live order) whose period ends within [from, to]."""
    def failed_debit_lines(self, since: datetime) -> list[Due]: ...
    def channel_of(self, person_id: int) -> tuple[str, str] | None:
        """(channel, channel user) the person last came through, or None."""
    def opted_out(self, person_ids: list[int]) -> set[int]: ...
    def claim(self, due: Due, channel: str, recipient: str, text: str, at: datetime) -> bool:
        """Insert-if-absent in state ``sending``; False when (kind, key) was decided before."""
    def finish(self, kind: str, key: str, state: str, error: str | None) -> None: ...
    def record_skipped(self, due: Due, channel: str, state: str, at: datetime) -> None: ...
    def opt_out(self, person_id: int, via: str, at: datetime) -> None: ...
    def opt_in(self, person_id: int) -> None: ...
    def sent(self, kind: str | None, state: str | None, person_id: int | None, limit: int) -> list[dict]: ...


class Notifier(Protocol):
    """One channel's way to reach a payer; raises ``NotifyFailed`` when the channel refuses."""

    def send(self, message: rules.Message) -> None: ...


class NotifyFailed(Exception):
    pass


@dataclass
class ReminderPorts:
    store: Callable[[], ReminderStore]
    notifiers: Mapping[str, Notifier]  # wechat / alipay / sms
    clock: Clock


def send_reminders(ports: ReminderPorts, uow: UnitOfWork, days_before: int = rules.DAYS_BEFORE) -> dict[str, int]:
    """One run: remind of what falls due soon and of failed debits; answers counts by outcome."""
    now = ports.clock.now()
    today = shanghai_date(now)
    store = ports.store()
    candidates = [d for d in store.due_assessments(today.replace(day=1), today + timedelta(days=days_before))
                  if rules.is_due_soon(d.period_end, today, days_before)]
    candidates += store.failed_debit_lines(now - timedelta(days=7))
    out = store.opted_out(sorted({d.person_id for d in candidates}))
    counts: dict[str, int] = {}
    for due in candidates:
        state = _remind(due, due.person_id in out, ports, store, uow, now)
        if state:
            counts[state] = counts.get(state, 0) + 1
    return counts


def _remind(due: Due, opted_out: bool, ports: ReminderPorts, store: ReminderStore, uow: UnitOfWork,
            now: datetime) -> str | None:
    channel, recipient = _channel(due.person_id, store, uow)
    if opted_out or channel == rules.NONE:
        state = rules.OPTED_OUT if opted_out else rules.NO_CHANNEL
        store.record_skipped(due, channel, state, now)
        return state
    deadline = rules.due_date(due.period_end)
    args = (channel, recipient, due.period_end.strftime("%Y-%m"), INSURANCE_LABELS.get(due.insurance, due.insurance),
            yuan(due.amount_fen), deadline.isoformat())
    message = rules.due_soon_message(*args) if due.kind == rules.DUE_SOON else \
        rules.debit_failed_message(*args, reason=due.reason)
    shown = mask_phone(recipient) if channel == rules.SMS else (mask_channel_user(recipient) or "")
    if not store.claim(due, channel, shown, message.text(), now):
        return None  # decided in an earlier run
    try:
        ports.notifiers[channel].send(message)
    except NotifyFailed as refused:
        store.finish(due.kind, due.key, rules.FAILED, str(refused)[:200])
        return rules.FAILED
    store.finish(due.kind, due.key, rules.SENT, None)
    return rules.SENT


def _channel(person_id: int, store: ReminderStore, uow: UnitOfWork) -> tuple[str, str]:
    found = store.channel_of(person_id)
    if found and found[0] in rules.CHANNEL_OF:
        return rules.CHANNEL_OF[found[0]], found[1]
    with uow:
        person = uow.persons.get(person_id)  # the phone on record (a read in the access log)
    return (rules.SMS, person.phone) if person and person.phone else (rules.NONE, "")


def opt_out(person_id: int, via: str, ports: ReminderPorts) -> None:
    """The payer asks for no more reminders (on any channel)."""
    ports.store().opt_out(person_id, via[:32], ports.clock.now())


def opt_in(person_id: int, ports: ReminderPorts) -> None:
    ports.store().opt_in(person_id)


def list_sent(ports: ReminderPorts, kind: str | None = None, state: str | None = None,
              person_id: int | None = None, limit: int = 200) -> list[dict]:
    """What was decided and sent, newest first (the recipient masked)."""
    rows = ports.store().sent(kind or None, state or None, person_id, min(max(limit, 1), 1000))
    for row in rows:
        row.update(kind_label=rules.KIND_LABELS.get(row["kind"], row["kind"]),
                   channel_label=rules.CHANNEL_LABELS.get(row["channel"], row["channel"]),
                   state_label=rules.STATE_LABELS.get(row["state"], row["state"]))
    return rows
