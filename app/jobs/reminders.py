"""Reminders (催缴提醒) on schedule: once a day at 09:00 Beijing time, a decent hour for a message.

RQ reads cron in the scheduler's local time (run it with TZ=Asia/Shanghai, as for reconciliation).
``flask reminders send`` does the same run by hand; a second run the same day sends nothing twice.
"""
from __future__ import annotations

from app.services import reminders

REMINDER_CRON = "0 9 * * *"


def send_reminders_daily() -> dict:
    """RQ: the day's reminders."""
    from app.jobs.payments import _current  # the worker's container, built once per process

    c = _current()
    return reminders.send_reminders(c.backoffice.reminders, c.uow())
