"""Reminders in SQL (what is due, who opted out, what was sent) and the notifier sandboxes.

The sandboxes keep what they were asked to send, in the shape the real channel takes: a WeChat
subscribe message (``touser``, ``template_id``, ``page``, ``data`` of ``thingN``/``amountN``/
``timeN`` fields, as ``/cgi-bin/message/subscribe/send`` takes it), an Alipay template message
(``to_user_id``, ``user_template_id``, ``data``), and SMS through the project's SMS port (its
sandbox inbox). Tests and a person read them back with ``messages(recipient)``.
"""
from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.adapters import tables as t
from app.domain import reminders as rules
from app.services.reminders import Due, NotifyFailed


class SqlReminderStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def due_assessments(self, period_end_from, period_end_to) -> list[Due]:
        a = t.assessment.c
        q = (select(a.id, a.person_id, a.insurance, a.period_end, a.amount_fen)
             .where(a.state == "declared_unpaid", a.person_id.is_not(None), a.period_end >= period_end_from,
                    a.period_end <= period_end_to).order_by(a.id))
        with self.engine.connect() as conn:
            return [Due(rules.DUE_SOON, f"assessment:{r.id}:{r.period_end}", r.person_id, r.insurance, r.period_end,
                        r.amount_fen) for r in conn.execute(q)]

    def failed_debit_lines(self, since: datetime) -> list[Due]:
        line, a = t.debit_batch_line.c, t.assessment.c
        q = (select(line.line_key, line.person_id, line.amount_fen, line.reason, a.insurance, a.period_end)
             .select_from(t.debit_batch_line.join(t.assessment, a.id == line.assessment_id))
             .where(line.state == "failed", line.settled_at >= since).order_by(line.id))
        with self.engine.connect() as conn:
            return [Due(rules.DEBIT_FAILED, f"line:{r.line_key}", r.person_id, r.insurance, r.period_end,
                        r.amount_fen, r.reason or "") for r in conn.execute(q)]

    def channel_of(self, person_id: int) -> tuple[str, str] | None:
        c = t.channel_identity.c
        with self.engine.connect() as conn:
            row = conn.execute(select(c.channel, c.channel_user).where(c.person_id == person_id)
                               .order_by(c.updated_at.desc(), c.id.desc()).limit(1)).first()
        return (row.channel, row.channel_user) if row else None

    def opted_out(self, person_ids: list[int]) -> set[int]:
        if not person_ids:
            return set()
        c = t.reminder_opt_out.c
        with self.engine.connect() as conn:
            return set(conn.execute(select(c.person_id).where(c.person_id.in_(person_ids))).scalars())

    def _insert(self, conn, values: dict) -> bool:
        if conn.dialect.name == "postgresql":
            return conn.execute(pg_insert(t.reminder).values(**values).on_conflict_do_nothing()
                                .returning(t.reminder.c.id)).first() is not None
        c = t.reminder.c
        if conn.execute(select(c.id).where(c.kind == values["kind"], c.key == values["key"])).first():
            return False
        conn.execute(insert(t.reminder).values(**values))
        return True

    def claim(self, due: Due, channel: str, recipient: str, text: str, at: datetime) -> bool:
        with self.engine.begin() as conn:
            return self._insert(conn, {"kind": due.kind, "key": due.key, "person_id": due.person_id,
                                       "channel": channel, "recipient": recipient, "text": text[:300],
                                       "state": rules.SENDING, "at": at})

    def finish(self, kind: str, key: str, state: str, error: str | None) -> None:
        c = t.reminder.c
        with self.engine.begin() as conn:
            conn.execute(update(t.reminder).where(and_(c.kind == kind, c.key == key, c.state == rules.SENDING))
                         .values(state=state, error=error))

    def record_skipped(self, due: Due, channel: str, state: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            self._insert(conn, {"kind": due.kind, "key": due.key, "person_id": due.person_id, "channel": channel,
                                "recipient": "", "text": "", "state": state, "at": at})

    def opt_out(self, person_id: int, via: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            if conn.execute(select(t.reminder_opt_out.c.person_id)
                            .where(t.reminder_opt_out.c.person_id == person_id)).first() is None:
                conn.execute(insert(t.reminder_opt_out).values(person_id=person_id, via=via, at=at))

    def opt_in(self, person_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(t.reminder_opt_out).where(t.reminder_opt_out.c.person_id == person_id))

    def sent(self, kind, state, person_id, limit) -> list[dict]:
        c = t.reminder.c
        q = select(t.reminder).order_by(c.id.desc()).limit(limit)
        if kind:
            q = q.where(c.kind == kind)
        if state:
            q = q.where(c.state == state)
        if person_id:
            q = q.where(c.person_id == person_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


class _Kept:
    """What a sandbox was asked to send, by recipient (Redis when there is one, else this process)."""

    def __init__(self, name: str, redis_client=None):
        self.name, self.redis = name, redis_client
        self._local: dict[str, list] = defaultdict(list)
        self._lock = threading.Lock()

    def keep(self, recipient: str, payload: dict) -> None:
        if self.redis is not None:
            self.redis.lpush(f"sbf:{self.name}:{recipient}", json.dumps(payload, ensure_ascii=False))
            self.redis.ltrim(f"sbf:{self.name}:{recipient}", 0, 49)
            return
        with self._lock:
            self._local[recipient].insert(0, payload)

    def messages(self, recipient: str) -> list[dict]:
        if self.redis is not None:
            return [json.loads(x) for x in self.redis.lrange(f"sbf:{self.name}:{recipient}", 0, 49)]
        with self._lock:
            return list(self._local[recipient])


class SandboxWechatSubscribe(_Kept):
    """WeChat subscribe messages (订阅消息). A user who has not subscribed is refused (errcode 43101)."""

    TEMPLATE = "sbf-payment-reminder"

    def __init__(self, redis_client=None, refused: set[str] | None = None):
        super().__init__("wechat-subscribe", redis_client)
        self.refused = refused or set()

    def send(self, message: rules.Message) -> None:
        if message.recipient in self.refused:
            raise NotifyFailed("43101 user refuse to accept the msg")
        self.keep(message.recipient, {"touser": message.recipient, "template_id": self.TEMPLATE,
                                      "page": "pages/pay/index", "data": {
                                          "thing1": {"value": message.title[:20]},
                                          "thing2": {"value": message.insurance[:20]},
                                          "amount3": {"value": f"{message.amount}元"},
                                          "time4": {"value": message.deadline},
                                          "thing5": {"value": f"{message.period} {message.note}"[:20]}}})


class SandboxAlipayMessage(_Kept):
    """Alipay template messages (alipay.open.app.mini.templatemessage.send)."""

    TEMPLATE = "sbf-payment-reminder"

    def __init__(self, redis_client=None):
        super().__init__("alipay-message", redis_client)

    def send(self, message: rules.Message) -> None:
        self.keep(message.recipient, {"to_user_id": message.recipient, "user_template_id": self.TEMPLATE,
                                      "page": "pages/pay/index", "data": json.dumps({
                                          "keyword1": {"value": message.title}, "keyword2": {"value": message.insurance},
                                          "keyword3": {"value": f"{message.amount}元"},
                                          "keyword4": {"value": message.deadline},
                                          "keyword5": {"value": f"{message.period} {message.note}"}},
                                          ensure_ascii=False)})


class SmsNotifier:
    """Reminders by SMS through the project's SMS port."""

    def __init__(self, sms):
        self.sms = sms

    def send(self, message: rules.Message) -> None:
        try:
            self.sms.send(message.recipient, message.text())
        except Exception as trouble:  # a gateway's refusal, whatever its SDK raises
            raise NotifyFailed(str(trouble)[:200]) from trouble
