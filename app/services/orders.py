"""Orders: confirm the amount, hold the assessments, open the payment at the provider, show it.

One assessment can be in one live order only (an assessment moves declared_unpaid → paying
by compare-and-set, and the database keeps one live item per assessment), so it is paid
once across every channel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping

from app.domain.calls import CLOSE, PREPAY, QUERY, CallPolicy, ProviderCall
from app.domain.channels import ServiceUnavailable
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import DECLARED_UNPAID, PAID, PAYING
from app.domain.money import yuan
from app.domain.zone import local_iso
from app.domain.orders import CREATED, ORDER_STATE_LABELS, REFUND_STATE_LABELS, Order, OrderItem, methods_allowed
from app.domain.late_fees import LATE_FEE_LABEL
from app.domain.policy import PolicyBook
from app.services.late_fees import LATE_FEE, price_late_fees
from app.services import events
from app.services.ports import Clock, Numbers, UnitOfWork
from app.services.provider_calls import answered, new_call, record_call, record_calls
from app.services.views import assessment_view, insurance_order, person_view
from payments.base import PaymentProvider, PrepayRequest, PrepayResult, ResultState

log = logging.getLogger(__name__)
MAX_ITEMS = 60


@dataclass(frozen=True)
class PaymentSettings:
    """What the order services need from settings."""

    notify_base_url: str  # our public base URL; notifications go to {base}/api/v1/notify/<provider>
    channel_methods: Mapping[str, list[str]]  # channel → ["wechatpay.native", ...]
    expiry_minutes: int = 30
    return_url: str | None = None  # a template: {order_no} and {channel} are filled per order
    provider_expiry_minutes: Mapping[str, int] | None = None  # e.g. a bank counter voucher lasts days
    # when an open order is asked about again: after these waits (the last repeats), until it expires
    check_after_seconds: tuple[int, ...] = (60, 120, 300, 600, 1800)
    # providers whose query cannot tell (a bank counter voucher: the bank's file settles it), so
    # their orders are looked at once, at expiry, to close them
    unqueried_providers: tuple[str, ...] = ("counter",)

    def expiry_for(self, provider: str) -> int:
        return (self.provider_expiry_minutes or {}).get(provider, self.expiry_minutes)

    def next_check(self, provider: str, checks_done: int, now: datetime, expires_at: datetime) -> datetime:
        """When to ask about an open order next: by the schedule, never past its expiry."""
        if provider in self.unqueried_providers:
            return expires_at
        wait = self.check_after_seconds[min(checks_done, len(self.check_after_seconds) - 1)]
        return min(now + timedelta(seconds=wait), expires_at)

    def notify_url(self, provider: str) -> str:
        return f"{self.notify_base_url.rstrip('/')}/api/v1/notify/{provider}"


@dataclass(frozen=True)
class PaymentPorts:
    """What the money services need besides a unit of work, bound once in the composition root."""

    providers: Mapping[str, PaymentProvider]
    clock: Clock
    numbers: Numbers
    settings: PaymentSettings
    policies: PolicyBook  # the policy tables: late fees (滞纳金) are priced when an order is made
    policy: CallPolicy = field(default_factory=CallPolicy)  # retries of provider calls
    wake: Callable[[], None] | None = None  # tells the call worker that something is due now


@dataclass(frozen=True)
class NewOrder:
    """A payer's request to pay confirmed assessments: whose fees, how, and who pays."""

    person_ids: list[int]  # the insured persons the caller identified
    assessment_ids: list[int]
    channel: str
    method: str  # provider.method, e.g. wechatpay.native
    confirmed_amount_fen: int
    channel_user: str | None = None
    payer_person_id: int | None = None
    payer_ref: str | None = None  # the payer's id at the provider (openid), for in-app payment
    client_ip: str | None = None


def payment_methods_for(channel: str, pay: PaymentPorts) -> list[str]:
    """The ``provider.method`` codes a channel offers that a configured provider can take now."""
    providers = pay.providers
    return [m for m in methods_allowed(dict(pay.settings.channel_methods), channel)
            if m.partition(".")[0] in providers and m.partition(".")[2] in providers[m.partition(".")[0]].methods]


def create_order(new: NewOrder, uow: UnitOfWork, pay: PaymentPorts) -> dict:
    """Hold the assessments in a new order and open the payment at the provider.

    Late fees are priced for today (the clock's day): an order made on a later day prices them again.
    """
    person_ids, channel, method, channel_user = new.person_ids, new.channel, new.method, new.channel_user
    clock, numbers, settings = pay.clock, pay.numbers, pay.settings
    if method not in payment_methods_for(channel, pay):
        raise InvalidInput("method_not_allowed", "该渠道不支持所选支付方式或暂不可用", field="method")
    provider_code, _, provider_method = method.partition(".")
    provider = pay.providers[provider_code]
    ids = sorted(set(new.assessment_ids))
    if not ids or len(ids) > MAX_ITEMS:
        raise InvalidInput("assessments_required", f"请选择1至{MAX_ITEMS}笔应缴费额", field="assessment_ids")
    now = clock.now()
    with uow:
        assessments = uow.assessments.get_many(ids)
        if len(assessments) != len(ids) or any(a.person_id not in person_ids for a in assessments):
            raise NotFound("assessment_not_found", "未找到所选的应缴费额，请重新查询", field="assessment_ids")
        for a in assessments:
            if a.state != DECLARED_UNPAID:
                raise Conflict("assessment_not_payable", _not_payable_message(a.state, a.period_label),
                               field="assessment_ids", assessment_id=a.id)
        late = price_late_fees(uow, assessments, pay.policies, clock.today())
        total = sum(a.amount_fen + late[a.id].amount_fen for a in assessments)
        if total != new.confirmed_amount_fen:
            raise Conflict("amount_changed", f"订单金额已变更为{yuan(total)}元，请重新核对后支付",
                           field="confirmed_amount_fen", amount_fen=total)
        if uow.assessments.move(ids, DECLARED_UNPAID, PAYING) != len(ids):
            raise Conflict("assessment_not_payable", "所选费款正在其他渠道支付或已缴纳，请刷新后重试")
        order = uow.orders.add(Order(
            order_no=numbers.order_no(now), channel=channel, provider=provider_code, method=provider_method,
            amount_fen=total, description=_description(assessments), created_at=now,
            expires_at=now + timedelta(minutes=settings.expiry_for(provider_code)), channel_user=channel_user,
            payer_person_id=new.payer_person_id,
            items=[OrderItem(assessment_id=a.id, person_id=a.person_id, amount_fen=a.amount_fen,
                             late_fee_fen=late[a.id].amount_fen) for a in assessments]))
        request = PrepayRequest(
            order_no=order.order_no, amount_fen=order.amount_fen, description=order.description,
            method=provider_method, notify_url=settings.notify_url(provider_code), expires_at=order.expires_at,
            return_url=settings.return_url.format(order_no=order.order_no, channel=channel)
            if settings.return_url else None, payer_ref=new.payer_ref, client_ip=new.client_ip)
        # recorded before it is made (leased past this request, so the worker leaves it to us), with the
        # order's first query, in one statement
        prepay, _ = record_calls(uow, new_call(PREPAY, provider_code, order.order_no, request, now,
                                               due=now + timedelta(seconds=pay.policy.lease_seconds)),
                                 new_call(QUERY, provider_code, order.order_no, {"order_no": order.order_no}, now,
                                          due=settings.next_check(provider_code, 0, now, order.expires_at)))
        uow.audit.record("order.created", f"order:{order.order_no}", {"amount_fen": total, "items": ids}, now)
        uow.commit()
    events.emit(events.ORDER_CREATED, order_no=order.order_no, channel=channel, provider=provider_code,
                method=provider_method, amount_fen=order.amount_fen, items=len(order.items),
                channel_user=events.mask(channel_user))

    result = provider.prepay(request)
    if result.state == ResultState.UNKNOWN:  # once more at once: the same order number opens the same payment
        prepay.attempts += 1
        result = provider.prepay(request)
    return _opened(order.order_no, prepay, result, uow, pay)


def _opened(order_no: str, prepay: ProviderCall, result: PrepayResult, uow: UnitOfWork, pay: PaymentPorts) -> dict:
    """Keep the prepay answer; show the payment, or tell the payer it could not be opened (never a 201
    with nothing to pay with). Answers the order as the payer sees it, read under the same lock."""
    now = pay.clock.now()
    usable = result.state == ResultState.WAITING and (result.pay_url or result.qr_code or result.app_params
                                                      or result.provider_ref)
    with uow:
        order = uow.orders.get_by_no(order_no, for_update=True)
        answered(prepay, result, now)
        prepay.attempts = max(prepay.attempts, 1)
        prepay.finish(now)
        uow.calls.save(prepay, now)
        if order.state != CREATED:  # a notification or the worker got there first (paid already, or closed)
            view = order_view(uow, order)
            uow.commit()
            return view
        if result.state == ResultState.FAIL:
            log.warning("prepay refused for %s: %s %s", order_no, result.error_code, result.error_message)
            close_locally(uow, order, pay.clock, reason=f"prepay_failed:{result.error_code}")
            uow.commit()
            raise Conflict("prepay_failed", "支付渠道暂时无法受理本次支付，所选费款已释放，请稍后重试或更换支付方式")
        if not usable:
            # the provider may have opened it, but the payer holds nothing to pay with: close it there
            # (recorded, run by the worker), which gives the assessments back
            log.warning("prepay for %s left nothing to pay with: %s %s", order_no, result.state, result.error_code)
            record_call(uow, CLOSE, order.provider, order_no, {"order_no": order_no, "reason": "prepay_unknown"},
                        now, due=now)
            uow.commit()
            if pay.wake:
                pay.wake()
            raise ServiceUnavailable("payment_not_opened", "支付渠道暂未响应，本次支付未能发起。"
                                     "所选费款将在几分钟内释放，请稍后重试或更换支付方式")
        order.open(result.provider_ref, result.pay_url, result.qr_code,
                   dict(result.app_params) if result.app_params else None)
        if not uow.orders.save(order):  # cannot happen while we hold the row
            raise RuntimeError(f"order {order_no} changed under its lock")
        view = order_view(uow, order)  # the order as saved: no need to read it again
        uow.commit()
        return view


def close_locally(uow: UnitOfWork, order: Order, clock: Clock, reason: str) -> bool:
    """Close an open order and give its assessments back (paying → declared_unpaid).

    The caller holds the order (read ``for_update``, or just created in this transaction).
    """
    if not order.is_open:
        return False
    order.close(clock.now(), reason)
    if not uow.orders.save(order):
        return False
    released = uow.orders.release_items(order.id)
    uow.assessments.move(released, PAYING, DECLARED_UNPAID)
    uow.audit.record("order.closed", f"order:{order.order_no}", {"reason": reason}, clock.now())
    return True


def close_at_provider(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts) -> str:
    """Run a recorded close: at the provider first, then here. Answers closed / paid / settled / unknown.

    "paid" means the provider took the money meanwhile: the order's query is re-armed, due
    now, and settles it. The caller saves the call after an "unknown".
    """
    now = pay.clock.now()
    with uow:
        order = uow.orders.get_by_no(call.order_no)
    if order is None or not order.is_open:
        return "settled"
    closed = pay.providers[order.provider].close(order.order_no)
    answered(call, closed, now)
    if closed.state == ResultState.SUCCESS:
        with uow:
            order = uow.orders.get_by_no(call.order_no, for_update=True)
            close_locally(uow, order, pay.clock, reason=(call.request or {}).get("reason") or "expired")
            call.finish(now)
            uow.calls.save(call, now)
            uow.commit()
        return "closed"
    if closed.state == ResultState.FAIL and closed.error_code == "order_paid":
        with uow:
            record_call(uow, QUERY, order.provider, order.order_no, {"order_no": order.order_no}, now, due=now)
            call.finish(now)
            uow.calls.save(call, now)
            uow.commit()
        return "paid"
    return "unknown"


def cancel_order(order_no: str, person_ids: list[int], uow: UnitOfWork, pay: PaymentPorts,
                 channel_user: str | None = None) -> dict:
    """The payer gives up: close at the provider first (recorded before it is made), then here."""
    now = pay.clock.now()
    with uow:
        order = _visible_order(uow, order_no, person_ids, channel_user)
        if not order.is_open:
            raise Conflict("order_not_open", "该订单已完成或已关闭，不能取消")
        call = record_call(uow, CLOSE, order.provider, order_no, {"order_no": order_no, "reason": "cancelled"}, now,
                           due=now + timedelta(seconds=pay.policy.lease_seconds))
        uow.commit()
    call.read_attempts = None
    outcome = close_at_provider(call, uow, pay)
    if outcome == "paid":
        raise Conflict("order_close_failed", "订单已支付，请稍后查看缴费结果")
    if outcome == "unknown":  # the worker tries again; the payer is told, not left guessing
        with uow:
            call.retry_later(now, pay.policy)
            uow.calls.save(call, now)
            uow.commit()
        raise ServiceUnavailable("order_closing", "支付渠道暂未响应，订单正在关闭，请稍后查看结果")
    return show_order(order_no, person_ids, uow, channel_user=channel_user)


def show_order(order_no: str, person_ids: list[int], uow: UnitOfWork, channel_user: str | None = None) -> dict:
    """An order as the payer sees it: state, items (insured persons masked), e-tickets, refunds."""
    with uow:
        order = _visible_order(uow, order_no, person_ids, channel_user)
        return order_view(uow, order)


def list_orders(person_ids: list[int], uow: UnitOfWork, channel_user: str | None = None) -> list[dict]:
    """Orders for these persons and those this channel user paid for others."""
    with uow:
        return [order_view(uow, o) for o in uow.orders.list_for_persons(person_ids, channel_user)]


def order_view(uow: UnitOfWork, order: Order) -> dict:
    paid = uow.orders.payments_by_kind(order.id)  # fees and late fees in one read
    tickets, late_tickets = paid.get("fee", {}), paid.get(LATE_FEE, {})
    assessments = {a.id: a for a in uow.assessments.get_many([i.assessment_id for i in order.items])}
    persons = {pid: uow.persons.get(pid) for pid in {i.person_id for i in order.items}}  # each decrypted once
    categories = {eid: uow.enrollments.get(eid).category for eid in {a.enrollment_id for a in assessments.values()}
                  if eid is not None}
    items = []
    for item in sorted(order.items, key=lambda i: (assessments[i.assessment_id].period_start,
                                                  insurance_order(assessments[i.assessment_id].insurance))):
        a = assessments[item.assessment_id]
        view = assessment_view(a, categories.get(a.enrollment_id))
        view.update(insured=person_view(persons[item.person_id]), e_ticket_number=tickets.get(item.assessment_id),
                    item_amount_fen=item.amount_fen, late_fee_fen=item.late_fee_fen,
                    late_fee_e_ticket_number=late_tickets.get(item.assessment_id))
        items.append(view)
    payer = uow.persons.get(order.payer_person_id) if order.payer_person_id else None
    refunds = [{"refund_no": r.refund_no, "amount_fen": r.amount_fen, "state": r.state,
                "state_label": REFUND_STATE_LABELS[r.state], "reason": r.reason} for r in uow.orders.refunds_of(order.id)]
    return {"order_no": order.order_no, "state": order.state, "state_label": ORDER_STATE_LABELS[order.state],
            "amount_fen": order.amount_fen, "amount_yuan": yuan(order.amount_fen), "channel": order.channel,
            "channel_user": order.channel_user, "payer_person_id": order.payer_person_id,
            "proxy": bool(order.payer_person_id and any(i.person_id != order.payer_person_id for i in order.items)),
            "payer": person_view(payer) if payer is not None else None,
            "provider": order.provider, "method": order.method, "description": order.description,
            "created_at": local_iso(order.created_at), "expires_at": local_iso(order.expires_at),
            "paid_at": local_iso(order.paid_at),
            "pay": {"pay_url": order.pay_url, "qr_code": order.qr_code, "app_params": order.app_params,
                    "provider_ref": order.provider_ref},
            "items": items, "refunds": refunds}


def voucher_for_order(order_no: str, person_ids: list[int], uow: UnitOfWork, policies) -> dict:
    """What a bank counter voucher (银行端查询缴费凭证) shows, masked; the adapter draws it."""
    with uow:
        order = _visible_order(uow, order_no, person_ids, None)
        if order.provider != "counter" or not order.provider_ref:
            raise NotFound("voucher_not_found", "该订单不是银行端缴费凭证", field="order_no")
        view = order_view(uow, order)
        payer = uow.persons.get(order.payer_person_id or order.items[0].person_id)
    region_name = policies.region_name(view["items"][0]["region"])
    return {"voucher_no": order.provider_ref, "order_no": order.order_no,
            "tax_authority": f"国家税务总局{region_name}税务局" if region_name else "国家税务总局",
            "payer_name": person_view(payer)["name"], "payer_id_number": person_view(payer)["id_number"],
            "items": _voucher_lines(view["items"]),
            "total_fen": order.amount_fen, "expires_at": local_iso(order.expires_at)[:16].replace("T", " "),
            "issued_at": local_iso(order.created_at)[:16].replace("T", " ")}


def _voucher_lines(items: list[dict]) -> list[dict]:
    """The fee of each item, and its late fee (滞纳金) as a line of its own where there is one."""
    lines = []
    for i in items:
        lines.append({"insurance_label": i["insurance_label"], "period": i["period"], "amount_fen": i["item_amount_fen"]})
        if i["late_fee_fen"]:
            lines.append({"insurance_label": i["insurance_label"] + LATE_FEE_LABEL, "period": i["period"],
                          "amount_fen": i["late_fee_fen"]})
    return lines


def _visible_order(uow: UnitOfWork, order_no: str, person_ids: list[int], channel_user: str | None) -> Order:
    order = uow.orders.get_by_no(order_no)
    if order is None or not (any(i.person_id in person_ids for i in order.items)
                             or (channel_user and order.channel_user == channel_user)):
        raise NotFound("order_not_found", "未找到该订单", field="order_no")
    return order


def _description(assessments) -> str:
    labels = sorted({a.insurance for a in assessments}, key=insurance_order)
    return "社保费缴费-" + "、".join({"pension": "养老", "medical": "医疗"}.get(x, x) for x in labels)


def _not_payable_message(state: str, period: str) -> str:
    return {PAID: f"{period}已缴纳，无需重复缴费", PAYING: f"{period}正在支付中，请勿重复支付"}.get(
        state, f"{period}的应缴费额已作废，请重新申报")
