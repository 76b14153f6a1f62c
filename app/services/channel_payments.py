"""Paying within a channel and looking back: orders with the channel's method, the channel
user's history (own payments and those made for others), the channel's menus and pages.

Orders are the core's (``orders.create_order``): here the channel adds who pays (the channel
user, and their own person when they identified themself) and how the payment starts inside
the channel. In the history, every insured person is masked, each item says whether it was
paid for oneself or for a relative, and another payer's channel id is masked too.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Mapping

from app.domain.channels import RELATION_LABELS, SELF, ServiceUnavailable, mask_channel_user, relation_of
from app.domain.errors import InvalidInput, NotFound, Unauthenticated
from app.services import declarations, enrollments, orders
from app.services.channel_sessions import (CHANNEL_SESSION_REQUIRED, ChannelPorts, ChannelSessions, channel_of,
                                           channel_session, offered_methods)
from app.services.orders import NewOrder, PaymentPorts, order_view
from app.services.ports import UnitOfWork
from channels.base import (ChannelAdapter, ChannelUnavailable, InboundMessage, MenuItem, MessageEndpoint,
                           MessageReply, OpenedPayment, RequestRefused, find_menu_item)

log = logging.getLogger(__name__)


def create_channel_order(code: str, token: str | None, new: NewOrder, uow: UnitOfWork, pay: PaymentPorts,
                         ch: ChannelPorts) -> dict:
    """An order paid by the channel user for persons identified in this channel, started in the channel.

    ``new`` carries what the request asked (persons, assessments, amount, method or "" for the
    channel's first); who pays comes from the channel session, never from the request.
    """
    channel = channel_of(code, ch.channels)
    data = channel_session(code, token, ch.sessions)
    identified = set(data.get("persons") or {})
    allowed = sorted(identified.intersection(new.person_ids))
    if not allowed:
        raise Unauthenticated("identification_required", "请先在本渠道输入参保人姓名和证件信息进行身份确认")
    offered = offered_methods(channel, pay.settings.channel_methods)
    method = new.method or (offered[0] if offered else "")
    if method not in offered:
        raise InvalidInput("method_not_allowed", "该渠道不支持所选支付方式", field="method")
    order = orders.create_order(replace(new, person_ids=allowed, channel=code, method=method,
                                        channel_user=data["user_id"], payer_person_id=data.get("self_person_id"),
                                        payer_ref=data.get("payer_ref")), uow, pay)
    pay = order["pay"]
    try:
        start = channel.start_payment(OpenedPayment(
            order_no=order["order_no"], method=method, amount_fen=order["amount_fen"], pay_url=pay["pay_url"],
            qr_code=pay["qr_code"], app_params=pay["app_params"]))
        order["start"] = {"kind": start.kind, "url": start.url, "params": dict(start.params)}
    except RequestRefused as exc:  # e.g. the provider's answer is unknown yet: the page waits for the result
        log.info("order %s cannot start in %s yet: %s", order["order_no"], code, exc.reason)
        order["start"] = None
    return _decorated(order, data, {i["id"]: pid for i, pid in _item_persons(uow, order)})


def channel_of_session(token: str, sessions: ChannelSessions) -> str:
    """The channel a channel session belongs to (401 when the session is missing or expired)."""
    data = sessions.get(token)
    if data is None:
        raise Unauthenticated(*CHANNEL_SESSION_REQUIRED)
    return data["channel"]


def channel_history(code: str, token: str | None, uow: UnitOfWork, ch: ChannelPorts) -> list[dict]:
    """The channel user's payments: for themself (whoever paid) and those they made for others."""
    channel_of(code, ch.channels)
    data = channel_session(code, token, ch.sessions)
    self_id = data.get("self_person_id") or ch.identities.self_person(code, data["user_id"])
    data = {**data, "self_person_id": self_id}
    with uow:
        found = uow.orders.list_for_persons([self_id] if self_id is not None else [], data["user_id"])
        views = [(order_view(uow, o), {i.assessment_id: i.person_id for i in o.items}) for o in found]
    # a channel user id belongs to its platform: the 公众号 and 城市服务 share WeChat's openid, so a
    # WeChat user sees what they paid through either
    return [_decorated(view, data, persons) for view, persons in views]


def show_channel_order(code: str, token: str | None, order_no: str, uow: UnitOfWork, ch: ChannelPorts) -> dict:
    """One order the channel user paid, or one for a person they identified here."""
    channel_of(code, ch.channels)
    data = channel_session(code, token, ch.sessions)
    person_ids = sorted(set(data.get("persons") or {}) | ({data["self_person_id"]} if data.get("self_person_id")
                                                            else set()))
    order = orders.show_order(order_no, person_ids, uow, channel_user=data["user_id"])
    return _decorated(order, data, {i["id"]: pid for i, pid in _item_persons(uow, order)})


def _item_persons(uow: UnitOfWork, order: dict) -> list[tuple[dict, int]]:
    with uow:
        assessments = {a.id: a for a in uow.assessments.get_many([i["id"] for i in order["items"]])}
    return [(item, assessments[item["id"]].person_id) for item in order["items"]]


def _decorated(view: dict, data: dict, persons: Mapping[int, int]) -> dict:
    """Who paid and for whom, as the channel user may see it."""
    self_id = data.get("self_person_id")
    paid_by_me = view["channel_user"] == data["user_id"]
    for item in view["items"]:
        relation = relation_of(persons[item["id"]], self_id)
        item.update(relation=relation, relation_label=RELATION_LABELS[relation])
    view.update(paid_by_me=paid_by_me, for_others=any(i["relation"] != SELF for i in view["items"]),
                channel_user=view["channel_user"] if paid_by_me else mask_channel_user(view["channel_user"]))
    view.pop("payer_person_id", None)  # an internal id; the items say whose fees they are
    if not paid_by_me:  # another payer's cashier link and in-app parameters are theirs alone
        view["pay"] = {key: None for key in view["pay"]}
    return view


def channel_menu(code: str, channels: Mapping[str, ChannelAdapter]) -> list[dict]:
    """The channel's menu (its modules, as the payer pages show them)."""
    return [menu_view(item) for item in channel_of(code, channels).menu()]


def menu_view(item: MenuItem) -> dict:
    return {"key": item.key, "title": item.title, "module": item.module, "filters": dict(item.filters),
            "children": [menu_view(child) for child in item.children]}


def open_menu_item(code: str, key: str, person_id: int, uow: UnitOfWork,
                   channels: Mapping[str, ChannelAdapter]) -> dict:
    """A menu item for the identified person: the enrollments (and special assessments) it concerns."""
    item = find_menu_item(tuple(channel_of(code, channels).menu()), key)
    if item is None:
        raise NotFound("menu_not_found", "未找到该菜单", field="key")
    filters = dict(item.filters)
    found = [e for e in enrollments.list_enrollments(person_id, uow)
             if all(e.get(k) == v for k, v in filters.items() if k in ("insurance", "category"))]
    special = []
    if filters.get("kind") == "special":
        special = [a for a in declarations.list_assessments(person_id, uow, state="declared_unpaid")
                   if a["kind"] == "special"]
    return {"menu": menu_view(item), "enrollments": found, "special_assessments": special}


def page_config(code: str, url: str, channels: Mapping[str, ChannelAdapter]) -> dict:
    """What the channel's page script needs (the WeChat JS-SDK config); empty for most channels."""
    channel = channel_of(code, channels)
    try:
        return {"channel": code, "config": dict(channel.page_config(url))}
    except RequestRefused as exc:
        raise InvalidInput(exc.reason, "该页面地址不在渠道允许的范围内", field="url") from exc
    except ChannelUnavailable as exc:
        log.warning("channel %s page config unavailable: %s %s", code, exc.reason, exc.detail)
        raise ServiceUnavailable("channel_unavailable", f"{channel.title}暂时无法访问，请稍后再试") from exc


def handle_channel_message(code: str, message: InboundMessage,
                           channels: Mapping[str, ChannelAdapter]) -> MessageReply:
    """A platform's message to the channel's endpoint, answered by the channel."""
    channel = channel_of(code, channels)
    if not isinstance(channel, MessageEndpoint):
        raise NotFound("channel_not_found", "该渠道没有消息接口", field="channel")
    return channel.handle_message(message)
