"""Orders: confirm the amount, hold the assessments, open the payment at the provider, show it.

One assessment can be in one live order only (an assessment moves declared_unpaid → paying
by compare-and-set, and the database keeps one live item per assessment), so it is paid
once across every channel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Mapping

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import DECLARED_UNPAID, PAID, PAYING
from app.domain.money import yuan
from app.domain.periods import local_iso
from app.domain.orders import (CLOSED, CREATED, ORDER_STATE_LABELS, PAYING as ORDER_PAYING, REFUND_STATE_LABELS,
                               Order, OrderItem, methods_allowed)
from app.services import events
from app.services.ports import Clock, Numbers, UnitOfWork
from app.services.views import assessment_view, person_view
from payments.base import PaymentProvider, PrepayRequest, ResultState

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

    def expiry_for(self, provider: str) -> int:
        return (self.provider_expiry_minutes or {}).get(provider, self.expiry_minutes)

    def notify_url(self, provider: str) -> str:
        return f"{self.notify_base_url.rstrip('/')}/api/v1/notify/{provider}"


def payment_methods_for(channel: str, providers: Mapping[str, PaymentProvider],
                        settings: PaymentSettings) -> list[str]:
    """The ``provider.method`` codes a channel offers that a configured provider can take now."""
    return [m for m in methods_allowed(dict(settings.channel_methods), channel)
            if m.partition(".")[0] in providers and m.partition(".")[2] in providers[m.partition(".")[0]].methods]


def create_order(person_ids: list[int], assessment_ids: list[int], channel: str, method: str,
                 confirmed_amount_fen: int, uow: UnitOfWork, providers: Mapping[str, PaymentProvider],
                 clock: Clock, numbers: Numbers, settings: PaymentSettings, channel_user: str | None = None,
                 payer_person_id: int | None = None, payer_ref: str | None = None,
                 client_ip: str | None = None) -> dict:
    """Hold the assessments in a new order and open the payment at the provider."""
    if method not in payment_methods_for(channel, providers, settings):
        raise InvalidInput("method_not_allowed", "该渠道不支持所选支付方式或暂不可用", field="method")
    provider_code, _, provider_method = method.partition(".")
    provider = providers[provider_code]
    ids = sorted(set(assessment_ids))
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
        total = sum(a.amount_fen for a in assessments)
        if total != confirmed_amount_fen:
            raise Conflict("amount_changed", f"订单金额已变更为{yuan(total)}元，请重新核对后支付",
                           field="confirmed_amount_fen", amount_fen=total)
        if uow.assessments.move(ids, DECLARED_UNPAID, PAYING) != len(ids):
            raise Conflict("assessment_not_payable", "所选费款正在其他渠道支付或已缴纳，请刷新后重试")
        order = uow.orders.add(Order(
            order_no=numbers.order_no(now), channel=channel, provider=provider_code, method=provider_method,
            amount_fen=total, description=_description(assessments), created_at=now,
            expires_at=now + timedelta(minutes=settings.expiry_for(provider_code)), channel_user=channel_user,
            payer_person_id=payer_person_id,
            items=[OrderItem(assessment_id=a.id, person_id=a.person_id, amount_fen=a.amount_fen) for a in assessments]))
        uow.audit.record("order.created", f"order:{order.order_no}", {"amount_fen": total, "items": ids}, now)
        uow.commit()

    result = provider.prepay(PrepayRequest(
        order_no=order.order_no, amount_fen=order.amount_fen, description=order.description, method=provider_method,
        notify_url=settings.notify_url(provider_code), expires_at=order.expires_at,
        return_url=settings.return_url.format(order_no=order.order_no, channel=channel) if settings.return_url else None,
        payer_ref=payer_ref, client_ip=client_ip))
    with uow:
        if result.state == ResultState.FAIL:
            log.warning("prepay refused for %s: %s %s", order.order_no, result.error_code, result.error_message)
            close_locally(uow, order, clock, reason=f"prepay_failed:{result.error_code}")
            uow.commit()
            events.emit(events.ORDER_CREATED, order_no=order.order_no, channel=channel, provider=provider_code,
                        method=provider_method, amount_fen=order.amount_fen, items=len(ids), prepay="FAIL",
                        channel_user=events.mask(channel_user))
            raise Conflict("prepay_failed", "支付渠道暂时无法受理，请稍后重试或更换支付方式")
        # WAITING, or UNKNOWN (the provider may have opened it; the re-query job settles it)
        uow.orders.move(order.id, CREATED, ORDER_PAYING, provider_ref=result.provider_ref, pay_url=result.pay_url,
                        qr_code=result.qr_code, app_params=dict(result.app_params) if result.app_params else None,
                        failure_reason=None if result.state == ResultState.WAITING else "prepay_unknown")
        uow.commit()
    events.emit(events.ORDER_CREATED, order_no=order.order_no, channel=channel, provider=provider_code,
                method=provider_method, amount_fen=order.amount_fen, items=len(ids), prepay=result.state.value,
                channel_user=events.mask(channel_user))
    return show_order(order.order_no, person_ids, uow, channel_user=channel_user)


def close_locally(uow: UnitOfWork, order: Order, clock: Clock, reason: str) -> bool:
    """Close an open order and give its assessments back (paying → declared_unpaid)."""
    if not uow.orders.move(order.id, (CREATED, ORDER_PAYING), CLOSED, closed_at=clock.now(), failure_reason=reason):
        return False
    released = uow.orders.release_items(order.id)
    uow.assessments.move(released, PAYING, DECLARED_UNPAID)
    uow.audit.record("order.closed", f"order:{order.order_no}", {"reason": reason}, clock.now())
    return True


def cancel_order(order_no: str, person_ids: list[int], uow: UnitOfWork, providers: Mapping[str, PaymentProvider],
                 clock: Clock, channel_user: str | None = None) -> dict:
    """The payer gives up: close at the provider first, then here."""
    with uow:
        order = _visible_order(uow, order_no, person_ids, channel_user)
    if order.state not in (CREATED, ORDER_PAYING):
        raise Conflict("order_not_open", "该订单已完成或已关闭，不能取消")
    closed = providers[order.provider].close(order.order_no)
    if closed.state != ResultState.SUCCESS:
        raise Conflict("order_close_failed", "订单可能已支付，请稍后查看缴费结果")
    with uow:
        close_locally(uow, order, clock, reason="cancelled")
        uow.commit()
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
    tickets = uow.orders.payments_of(order.id)
    assessments = {a.id: a for a in uow.assessments.get_many([i.assessment_id for i in order.items])}
    persons = {pid: uow.persons.get(pid) for pid in {i.person_id for i in order.items}}
    items = []
    for item in order.items:
        view = assessment_view(assessments[item.assessment_id])
        view.update(insured=person_view(persons[item.person_id]), e_ticket_number=tickets.get(item.assessment_id),
                    item_amount_fen=item.amount_fen)
        items.append(view)
    refunds = [{"refund_no": r.refund_no, "amount_fen": r.amount_fen, "state": r.state,
                "state_label": REFUND_STATE_LABELS[r.state], "reason": r.reason} for r in uow.orders.refunds_of(order.id)]
    return {"order_no": order.order_no, "state": order.state, "state_label": ORDER_STATE_LABELS[order.state],
            "amount_fen": order.amount_fen, "amount_yuan": yuan(order.amount_fen), "channel": order.channel,
            "channel_user": order.channel_user, "payer_person_id": order.payer_person_id,
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
            "items": [{"insurance_label": i["insurance_label"], "period": i["period"], "amount_fen": i["item_amount_fen"]}
                      for i in view["items"]],
            "total_fen": order.amount_fen, "expires_at": local_iso(order.expires_at)[:16].replace("T", " "),
            "issued_at": local_iso(order.created_at)[:16].replace("T", " ")}


def _visible_order(uow: UnitOfWork, order_no: str, person_ids: list[int], channel_user: str | None) -> Order:
    order = uow.orders.get_by_no(order_no)
    if order is None or not (any(i.person_id in person_ids for i in order.items)
                             or (channel_user and order.channel_user == channel_user)):
        raise NotFound("order_not_found", "未找到该订单", field="order_no")
    return order


def _description(assessments) -> str:
    labels = sorted({a.insurance for a in assessments})
    return "社保费缴费-" + "、".join({"pension": "养老", "medical": "医疗"}.get(x, x) for x in labels)


def _not_payable_message(state: str, period: str) -> str:
    return {PAID: f"{period}已缴纳，无需重复缴费", PAYING: f"{period}正在支付中，请勿重复支付"}.get(
        state, f"{period}的应缴费额已作废，请重新申报")
