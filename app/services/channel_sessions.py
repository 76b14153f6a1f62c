"""Channel entry, authorization and sessions; identifying the insured person within a channel.

A payer arrives through a channel: ``begin_entry`` says how its authorization starts (with a
one-time state that also carries the region chosen, for 城市服务); ``start_channel_session``
turns the code the channel hands back into the channel user and a channel session (a token
of its own, separate from the identification sessions). Within it the payer identifies
themself or a relative (``identify_in_channel``, the core identification), and the session
remembers who is who, so orders keep the channel user apart from the insured persons.
Identifying oneself is also remembered across sessions (``ChannelIdentities``), so the
history shows one's own payments on the next visit.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Protocol

from app.domain.channels import RELATIONS, SELF, ServiceUnavailable
from app.domain.errors import InvalidInput, NotFound, Unauthenticated
from app.domain.policy import PolicyBook
from app.services import identification
from app.services.ports import Clock, IdentificationSessions, UnitOfWork
from channels.base import (AuthFailed, AuthGrant, ChannelAdapter, ChannelUnavailable, EntryRequest,
                           RequestRefused)

log = logging.getLogger(__name__)

CHANNEL_SESSION_REQUIRED = ("channel_session_required", "请从缴费渠道入口重新进入")


class ChannelSessions(Protocol):
    """Channel sessions (who the channel user is, whom they identified) and pending entries."""

    def create(self, data: dict, ttl_seconds: int) -> str: ...
    def get(self, token: str) -> dict | None:
        """The session's data with ``persons`` ({person_id: relation}) and ``self_person_id``."""
    def add_person(self, token: str, person_id: int, relation: str) -> bool: ...
    def set_self(self, token: str, person_id: int) -> bool: ...
    def end(self, token: str) -> None: ...
    def put_state(self, state: str, data: dict, ttl_seconds: int) -> None: ...
    def take_state(self, state: str) -> dict | None:
        """The pending entry once (then it is gone); None when unknown or expired."""


class ChannelIdentities(Protocol):
    """Which person a channel user said was themself (本人), across sessions."""

    def bind_self(self, channel: str, channel_user: str, person_id: int, at: datetime) -> None: ...
    def self_person(self, channel: str, channel_user: str) -> int | None: ...


@dataclass(frozen=True)
class ChannelSettings:
    """What the channel services need from settings."""

    public_base_url: str
    session_ttl_seconds: int = 1800
    identification_ttl_seconds: int = 1800
    state_ttl_seconds: int = 600

    def callback_url(self, code: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/channels/{code}/callback"


@dataclass(frozen=True)
class ChannelPorts:
    """What the channel services need besides a unit of work, bound once in the composition root."""

    channels: Mapping[str, ChannelAdapter]
    sessions: ChannelSessions
    identities: ChannelIdentities
    settings: ChannelSettings
    id_sessions: IdentificationSessions  # the core's identification sessions
    policies: PolicyBook
    clock: Clock


@dataclass(frozen=True)
class Identify:
    """Who the channel user says the insured person is, and whether it is themself (本人) or a relative."""

    name: str
    id_type: str
    id_number: str
    relation: str


def channel_of(code: str, channels: Mapping[str, ChannelAdapter]) -> ChannelAdapter:
    channel = channels.get(code)
    if channel is None:
        raise NotFound("channel_not_found", "暂不支持该缴费渠道", field="channel")
    return channel


def list_channels(channels: Mapping[str, ChannelAdapter], channel_methods: Mapping[str, list[str]]) -> list[dict]:
    """The channels this service is reachable through, with the payment methods each offers."""
    return [{"code": c.code, "title": c.title, "auth_kind": c.auth_kind, "needs_region": c.needs_region,
             "payment_methods": offered_methods(c, channel_methods)} for c in channels.values()]


def offered_methods(channel: ChannelAdapter, channel_methods: Mapping[str, list[str]]) -> list[str]:
    """What the settings allow on the channel and the channel can start, in the settings' order."""
    return [m for m in channel_methods.get(channel.code, []) if m in channel.payment_methods]


def begin_entry(code: str, ch: ChannelPorts, region: str | None = None, redirect_uri: str | None = None,
                next_page: str | None = None) -> dict:
    """How the payer's authorization starts in this channel; the state is good once, for minutes."""
    sessions, policies, settings = ch.sessions, ch.policies, ch.settings
    channel = channel_of(code, ch.channels)
    region_name = policies.region_name(region) if region else ""
    if channel.needs_region and not region:
        raise InvalidInput("region_required", "请先选择所在城市（地区）", field="region")
    if region and not region_name:
        raise InvalidInput("region_not_served", "该地区暂未开通社保费缴费服务", field="region")
    base = settings.public_base_url.rstrip("/") + "/"
    redirect_uri = redirect_uri or settings.callback_url(code)
    if not redirect_uri.startswith(base):
        raise InvalidInput("redirect_uri_not_allowed", "回调地址不在本服务的域名下", field="redirect_uri")
    state = secrets.token_urlsafe(18)
    sessions.put_state(state, {"channel": code, "region": region or None, "next": next_page},
                       settings.state_ttl_seconds)
    try:
        entry = channel.entry(EntryRequest(redirect_uri=redirect_uri, state=state, region=region or None))
    except RequestRefused as exc:
        raise InvalidInput(exc.reason, "该渠道入口参数有误，请从渠道重新进入") from exc
    return {"channel": code, "kind": entry.kind, "url": entry.url, "params": dict(entry.params), "state": state,
            "region": region or None, "region_name": region_name or None}


def start_channel_session(code: str, auth_code: str, state: str, ch: ChannelPorts) -> dict:
    """The channel's code → the channel user → a channel session token."""
    sessions, identities, clock, settings = ch.sessions, ch.identities, ch.clock, ch.settings
    channel = channel_of(code, ch.channels)
    pending = sessions.take_state(state) if state else None
    if pending is None or pending.get("channel") != code:
        raise Unauthenticated("channel_state_invalid", "授权已过期，请从缴费渠道入口重新进入", field="state")
    try:
        user = channel.authenticate(AuthGrant(code=auth_code, state=state))
    except AuthFailed as exc:
        log.info("channel %s refused a code: %s", code, exc.reason)
        raise Unauthenticated("channel_auth_failed", "渠道授权已失效，请重新进入", field="code") from exc
    except ChannelUnavailable as exc:
        log.warning("channel %s unavailable for authorization: %s %s", code, exc.reason, exc.detail)
        raise ServiceUnavailable("channel_unavailable", f"{channel.title}暂时无法完成授权，请稍后再试") from exc
    data = {"channel": code, "user_id": user.user_id, "display": user.display, "extra": dict(user.extra),
            "region": pending.get("region"), "next": pending.get("next"),
            "payer_ref": channel.payer_ref(user), "started_at": clock.now().isoformat()}
    token = sessions.create(data, settings.session_ttl_seconds)
    self_id = identities.self_person(code, user.user_id)
    if self_id is not None:
        sessions.set_self(token, self_id)
    return {"channel_token": token, "expires_in": settings.session_ttl_seconds, "payer_ref": data["payer_ref"],
            **session_view(channel, {**data, "self_person_id": self_id, "persons": {}})}


def channel_session(code: str, token: str | None, sessions: ChannelSessions) -> dict:
    """The live session of this channel for the token; 401 when missing, expired or another channel's."""
    data = sessions.get(token) if token else None
    if data is None or data.get("channel") != code:
        raise Unauthenticated(*CHANNEL_SESSION_REQUIRED)
    return data


def show_channel_session(code: str, token: str | None, ch: ChannelPorts) -> dict:
    """Who the channel user is and whom they identified (counts only: persons stay masked elsewhere)."""
    channel = channel_of(code, ch.channels)
    view = session_view(channel, channel_session(code, token, ch.sessions))
    view["region_name"] = ch.policies.region_name(view["region"]) if view["region"] else None
    return view


def end_channel_session(code: str, token: str | None, sessions: ChannelSessions) -> None:
    """Log the channel user out of this service."""
    channel_session(code, token, sessions)
    sessions.end(token)


def session_view(channel: ChannelAdapter, data: dict) -> dict:
    persons = data.get("persons") or {}
    return {"channel": channel.code, "channel_title": channel.title, "channel_user": data["user_id"],
            "display": data.get("display") or "", "region": data.get("region"),
            "self_identified": data.get("self_person_id") is not None,
            "relatives_identified": sum(1 for pid, rel in persons.items()
                                        if rel != SELF and pid != data.get("self_person_id")),
            "next": data.get("next")}


def channel_user_key(code: str, token: str | None, sessions: ChannelSessions) -> str:
    """What identification attempts are counted by: the channel and the user's id in it."""
    data = channel_session(code, token, sessions)
    return f"{code}:{data['user_id']}"


def identify_in_channel(code: str, token: str | None, claim: Identify, uow: UnitOfWork, ch: ChannelPorts) -> dict:
    """Identify oneself or a relative within the channel: the core identification, remembered here."""
    sessions, identities, id_sessions, clock, settings = ch.sessions, ch.identities, ch.id_sessions, ch.clock, ch.settings
    name, id_type, id_number, relation = claim.name, claim.id_type, claim.id_number, claim.relation
    channel = channel_of(code, ch.channels)
    data = channel_session(code, token, sessions)
    if relation not in RELATIONS:
        raise InvalidInput("relation_invalid", "请选择为本人缴费或代他人缴费", field="relation")
    found = identification.identify_person(name, id_type, id_number, uow, id_sessions,
                                           settings.identification_ttl_seconds, clock)
    person_id = id_sessions.get(found["token"])
    if person_id is None:  # cannot happen unless the session store lost it at once
        raise Unauthenticated("identification_required", "请重新输入参保人姓名和证件信息进行身份确认")
    if relation == SELF or person_id == data.get("self_person_id"):
        relation = SELF
        identities.bind_self(code, data["user_id"], person_id, clock.now())
        sessions.set_self(token, person_id)
    if not sessions.add_person(token, person_id, relation):
        raise Unauthenticated(*CHANNEL_SESSION_REQUIRED)
    enrollments = found["enrollments"]
    if data.get("region"):  # 城市服务: the city chosen at entry comes first
        for e in enrollments:
            e["in_region"] = e["region"] == data["region"]
        enrollments.sort(key=lambda e: not e["in_region"])
    return {**found, "enrollments": enrollments, "relation": relation, "channel": channel.code}
