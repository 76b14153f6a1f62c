"""What every payer page shares: the channel entered, who was identified in this browser, the
region a city service was entered with, the channel's look and menu, and rendering.

Who the payer identified as is kept in the signed session cookie (the identification tokens);
the channel and its region come from the channel's authorization (``session["channel"]``,
``session["region"]``).
"""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from app.domain.errors import NotFound, Unauthenticated
from app.web.looks import look_of
from app.web.security import check_csrf

IDENTIFY_FIRST = ("identification_required", "请先输入参保人姓名和证件信息进行身份确认")


def container():
    return current_app.extensions["sbf"]


def channel_codes() -> tuple[str, ...]:
    """The channels this deployment serves (the channel registry's settings), in their configured order."""
    config = current_app.config
    return tuple(config.get("CHANNELS") or ()) or tuple(config.get("SANDBOX_CHANNELS") or ())


def channel_adapter(code: str):
    """The channel's adapter, or None when the channel has none here (e.g. tests without channels)."""
    if code not in channel_codes():
        return None
    return container().channels.channels[code]


def people() -> list[dict]:
    return session.get("people", [])


def person_ids() -> list[int]:
    """The persons this browser has identified (oneself and relatives), dropping expired ones."""
    c = container()
    alive, ids = [], []
    for person in people():
        pid = c.sessions.get(person["token"])
        if pid is not None:
            alive.append(person)
            ids.append(pid)
    if len(alive) != len(people()):
        session["people"] = alive
    return ids


def current_person_id() -> int:
    token = session.get("current")
    person_id = container().sessions.get(token) if token else None
    if person_id is None:
        raise Unauthenticated(*IDENTIFY_FIRST)
    return person_id


def current_person() -> dict | None:
    return next((p for p in people() if p["token"] == session.get("current")), None)


def chosen_region() -> str | None:
    """The region a city service was entered with (统筹区 code), when this browser came that way."""
    if g.get("channel") and session.get("channel") == g.channel:
        return session.get("region") or None
    return None


def in_region(items: list[dict]) -> list[dict]:
    """Only what belongs to the chosen region (城市服务); everything elsewhere."""
    region = chosen_region()
    return [i for i in items if not region or i.get("region") == region]


def check_region(item: dict) -> dict:
    """Refuse an enrollment or assessment outside the chosen region, as not found here."""
    region = chosen_region()
    if region and item.get("region") != region:
        name = container().policies.region_name(region)
        raise NotFound("outside_region", f"该参保登记不属于当前所选地区（{name}），请在城市服务中切换城市后办理")
    return item


def channel_page(view):
    """A page of one channel: checks the channel code and the CSRF token, sends unidentified payers
    to the identification form (coming back afterwards)."""
    @wraps(view)
    def wrapper(channel, *args, **kwargs):
        if channel not in channel_codes():
            abort(404)
        set_channel(channel)
        if request.method == "POST":
            check_csrf()
        try:
            return view(channel, *args, **kwargs)
        except Unauthenticated:
            back = request.full_path if request.method == "GET" else url_for("h5.menu", channel=channel)
            return redirect(url_for("h5.identify", channel=channel, next=back))
    return wrapper


def set_channel(channel: str) -> None:
    """The channel (and its look) this request's page is shown in."""
    g.channel = channel
    region = chosen_region()
    g.look = look_of(channel, container().policies.region_name(region) if region else None)


def render(template: str, **context):
    return render_template(template, channel=g.channel, look=g.look, **context)


def safe_next(target: str | None, channel: str) -> str:
    """Where to go after identifying: one of our pages, never another site."""
    if target and target.startswith("/h5/") and not target.startswith("//"):
        return target
    return url_for("h5.menu", channel=channel)
