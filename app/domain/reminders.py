"""Reminders to pay (催缴提醒, seed row 59): before a due date, and after a failed batch debit.

Rules as data: which message goes by which channel, how many days before the due date, the
texts. The due date of a monthly assessment is the last day of its fee period's last month
(the month's fee is collected within the month); a region whose policy names another deadline
would give it here. A reminder is decided once per (kind, key): the key names the assessment and
its due date, or the batch-debit line, so running the job again sends nothing twice.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

DUE_SOON, DEBIT_FAILED = "due_soon", "debit_failed"
KIND_LABELS = {DUE_SOON: "缴费到期提醒", DEBIT_FAILED: "批量扣款失败提醒"}
WECHAT, ALIPAY, SMS, NONE = "wechat", "alipay", "sms", "none"
CHANNEL_LABELS = {WECHAT: "微信订阅消息", ALIPAY: "支付宝消息", SMS: "短信", NONE: "无可用渠道"}
# the payer's channel (channel_identity.channel) → how a reminder reaches them there
CHANNEL_OF = {"wechat_oa": WECHAT, "wechat_city": WECHAT, "alipay_citizen": ALIPAY}
SENT, OPTED_OUT, FAILED, NO_CHANNEL, SENDING = "sent", "opted_out", "failed", "no_channel", "sending"
STATE_LABELS = {SENT: "已发送", OPTED_OUT: "缴费人已退订，未发送", FAILED: "发送失败", NO_CHANNEL: "无可用渠道",
                SENDING: "发送中"}
DAYS_BEFORE = 3


def due_date(period_end: date) -> date:
    return period_end.replace(day=calendar.monthrange(period_end.year, period_end.month)[1])


def is_due_soon(period_end: date, today: date, days_before: int = DAYS_BEFORE) -> bool:
    return 0 <= (due_date(period_end) - today).days <= days_before


@dataclass(frozen=True)
class Message:
    """One reminder as the notifier sends it: the same fields on every channel, each renders its own."""

    kind: str
    channel: str
    recipient: str  # openid, Alipay user id or phone
    title: str
    period: str  # 2026-11
    insurance: str
    amount: str  # yuan, "1000.00"
    deadline: str  # 2026-11-30
    note: str

    def text(self) -> str:
        """The SMS text (the other channels fill their template's fields)."""
        return (f"【税务】您{self.period}的{self.insurance}费{self.amount}元，{self.note}，"
                f"请于{self.deadline}前缴纳。回复TD退订")


def due_soon_message(channel: str, recipient: str, period: str, insurance: str, amount: str,
                     deadline: str) -> Message:
    return Message(DUE_SOON, channel, recipient, "社保费缴费提醒", period, insurance, amount, deadline,
                   "尚未缴纳")


def debit_failed_message(channel: str, recipient: str, period: str, insurance: str, amount: str, deadline: str,
                         reason: str) -> Message:
    return Message(DEBIT_FAILED, channel, recipient, "社保费扣款失败提醒", period, insurance, amount, deadline,
                   f"自动扣款未成功（{reason or '银行未扣款'}）")
