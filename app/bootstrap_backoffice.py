"""The composition root's back-office part: the staff store, argon2id, the second factor, timeouts.

Staff passwords use the same argon2id parameters as the payers' accounts (``ACCOUNT_ARGON2``).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping

from app.adapters.backoffice_reads import SqlBackofficeReads
from app.adapters.backoffice_reports import PygalOpenpyxlReports
from app.adapters.backoffice_sql import PyotpSecondFactor, SqlStaffStore
from app.adapters.passwords import Argon2Hasher
from app.adapters.personal_data_log import AccessContext, accessing
from app.adapters.reminder_sql import SandboxAlipayMessage, SandboxWechatSubscribe, SmsNotifier, SqlReminderStore
from app.domain.staff import SessionRules
from app.services.backoffice_ports import BackofficeDeps
from app.services.reminders import ReminderPorts
from payments.registry import load_object


def build_backoffice_deps(settings: Mapping[str, Any], container) -> BackofficeDeps:
    rules = SessionRules(idle=timedelta(minutes=int(settings.get("BACKOFFICE_SESSION_IDLE_MINUTES", 30))),
                         absolute=timedelta(hours=int(settings.get("BACKOFFICE_SESSION_ABSOLUTE_HOURS", 10))))
    return BackofficeDeps(store=lambda: SqlStaffStore(container.engine, container.cipher),
                          hasher=Argon2Hasher(**settings["ACCOUNT_ARGON2"]), second_factor=PyotpSecondFactor(),
                          clock=container.clock, rules=rules, reads=lambda: SqlBackofficeReads(container.engine),
                          reports=PygalOpenpyxlReports(), reading_as=reading_as,
                          reminders=ReminderPorts(store=lambda: SqlReminderStore(container.engine),
                                                  notifiers=_notifiers(settings, container), clock=container.clock))


def _notifiers(settings: Mapping[str, Any], container) -> dict:
    """The reminder channels: configured ones (``REMINDER_NOTIFIERS``: {channel: [factory, kwargs]}), or the
    sandboxes; SMS goes through the SMS port either way unless configured otherwise."""
    notifiers = {"wechat": SandboxWechatSubscribe(container.redis), "alipay": SandboxAlipayMessage(container.redis),
                 "sms": SmsNotifier(container.sms)}
    for channel, (factory, kwargs) in (settings.get("REMINDER_NOTIFIERS") or {}).items():
        notifiers[channel] = load_object(factory)(**kwargs)
    return notifiers


def reading_as(accessor: str, purpose: str, where):
    """Reads of personal data inside the block are logged as the staff member's, for ``purpose``."""
    return accessing(AccessContext(who=lambda: ("staff", accessor), purpose=purpose[:200],
                                   request_id=where.request_id, client_ip=where.client_ip))
