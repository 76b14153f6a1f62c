"""The channel API: entry and authorization, channel sessions, identification within a channel,
orders with the channel's method, the channel user's history, menus and page configuration;
plus the browser entry (``/channels/<code>/start`` → the channel's authorization →
``/callback`` → the payer pages) and platform message endpoints (``/channels/wechat_oa/message``).

Views only parse, call a channel service and render. Two headers: ``X-Channel-Token`` (the
channel session: who pays) and ``X-Session-Token`` (identification sessions: whose fees), so
the channel user and the insured persons stay apart. After a browser entry, the channel
session also lands in the signed session cookie (``channel_token``, ``channel_user``,
``payer_ref``), where the payer pages read who pays.

Identification is limited (flask-limiter, the shared ``app.limits`` limiter): failed attempts
— a wrong name and an unknown number answer alike, and both count — per channel user and per
client address, here and on the core ``POST /api/v1/identifications`` (per address), answered
429 ``identification_rate_limited`` with a Chinese message.
"""
from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, redirect, request, session
from flask.views import MethodView

from app import limits
from app.api import channel_schemas as cs
from app.api.deps import container, session_person_id, session_person_ids
from app.api.parsing import Blueprint
from app.limits import guard_identification
from app.services import channel_payments, channel_sessions
from app.services.channel_sessions import ChannelPorts, Identify
from app.services.orders import NewOrder
from channels.base import InboundMessage

blp = Blueprint("channels", __name__, url_prefix="/api/v1/channels",
                description="渠道：授权与渠道会话、渠道内身份确认（本人或代他人）、下单、缴费记录")
pages = FlaskBlueprint("channel_entry", __name__)

CHANNEL_HEADER = "X-Channel-Token"
CHANNEL = [{"channelToken": []}]
CHANNEL_AND_SESSION = [{"channelToken": [], "sessionToken": []}]
SESSION = [{"sessionToken": []}]
MESSAGE_MAX_BYTES = 64 * 1024


def init_app(app, api) -> None:
    """Build the channels for this app, register the API and entry pages, and limit identification."""
    limits.init_limiter(app)
    api.spec.components.security_scheme("channelToken", {"type": "apiKey", "in": "header", "name": CHANNEL_HEADER})
    api.register_blueprint(blp)
    app.register_blueprint(pages)
    app.before_request(_limit_core_identification)


def parts() -> ChannelPorts:
    return container().channels


def channel_token() -> str | None:
    return request.headers.get(CHANNEL_HEADER)


def _limit_core_identification():
    if request.endpoint == "payer.Identifications" and request.method == "POST":
        guard_identification(None)


@blp.route("")
class Channels(MethodView):
    @blp.response(200, cs.ChannelOut(many=True))
    def get(self):
        """The channels this service is reachable through, and the payment methods of each."""
        return channel_sessions.list_channels(parts().channels, container().payment_settings.channel_methods)


@blp.route("/<code>/entry")
class EntryView(MethodView):
    @blp.arguments(cs.EntryQuery, location="query")
    @blp.response(200, cs.EntryOut)
    def get(self, query, code):
        """How authorization starts in the channel (an authorize URL, or the app SDK's parameters)."""
        return channel_sessions.begin_entry(code, parts(), region=query.get("region"),
                                            redirect_uri=query.get("redirect_uri"), next_page=query.get("next"))


@blp.route("/<code>/sessions")
class Sessions(MethodView):
    @blp.arguments(cs.SessionIn)
    @blp.response(201, cs.SessionOut)
    def post(self, data, code):
        """The channel's authorization code → a channel session (X-Channel-Token)."""
        return channel_sessions.start_channel_session(code, data["code"], data["state"], parts())


@blp.route("/<code>/session")
class SessionView(MethodView):
    @blp.response(200, cs.SessionOut)
    @blp.doc(security=CHANNEL)
    def get(self, code):
        """The current channel session: the channel user and how many persons they identified."""
        return channel_sessions.show_channel_session(code, channel_token(), parts())

    @blp.response(204)
    @blp.doc(security=CHANNEL)
    def delete(self, code):
        """End the channel session."""
        channel_sessions.end_channel_session(code, channel_token(), parts().sessions)


@blp.route("/<code>/identifications")
class ChannelIdentifications(MethodView):
    @blp.arguments(cs.ChannelIdentifyIn)
    @blp.response(201, cs.ChannelIdentifyOut)
    @blp.doc(security=CHANNEL)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data, code):
        """Identify oneself or a relative (代他人缴费) within the channel; returns an identification token."""
        c = container()
        token = channel_token()
        guard_identification(channel_sessions.channel_user_key(code, token, c.channels.sessions))
        claim = Identify(data["name"], data["id_type"], data["id_number"], data["relation"])
        return channel_sessions.identify_in_channel(code, token, claim, c.uow(), c.channels)


@blp.route("/<code>/menus")
class Menus(MethodView):
    @blp.response(200, cs.MenuItemOut(many=True))
    def get(self, code):
        """The channel's menu, built from the shared modules."""
        return channel_payments.channel_menu(code, parts().channels)


@blp.route("/<code>/menus/<key>")
class MenuOpen(MethodView):
    @blp.response(200, cs.MenuOpenOut)
    @blp.doc(security=SESSION)
    def get(self, code, key):
        """A menu item for the identified person: the enrollments (and special assessments) it concerns."""
        return channel_payments.open_menu_item(code, key, session_person_id(), container().uow(), parts().channels)


@blp.route("/<code>/page-config")
class PageConfig(MethodView):
    @blp.arguments(cs.PageConfigQuery, location="query")
    @blp.response(200, cs.PageConfigOut)
    def get(self, query, code):
        """What the channel's page script needs for a page URL (the WeChat JS-SDK signature)."""
        return channel_payments.page_config(code, query["url"], parts().channels)


@blp.route("/<code>/orders")
class ChannelOrders(MethodView):
    @blp.arguments(cs.ChannelOrderIn)
    @blp.response(201, cs.ChannelOrderOut)
    @blp.doc(security=CHANNEL_AND_SESSION)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, code):
        """Pay for confirmed assessments with the channel's method; answers how the payment starts."""
        c = container()
        new = NewOrder(person_ids=session_person_ids(), assessment_ids=data["assessment_ids"], channel=code,
                       method=data.get("method") or "", confirmed_amount_fen=data["confirmed_amount_fen"],
                       client_ip=request.remote_addr)
        return channel_payments.create_channel_order(code, channel_token(), new, c.uow(), c.payments, c.channels)

    @blp.response(200, cs.ChannelOrderOut(many=True))
    @blp.doc(security=CHANNEL)
    def get(self, code):
        """The channel user's history: their own payments and those they made for others (masked)."""
        return channel_payments.channel_history(code, channel_token(), container().uow(), parts())


@blp.route("/<code>/orders/<order_no>")
class ChannelOrderDetail(MethodView):
    @blp.response(200, cs.ChannelOrderOut)
    @blp.doc(security=CHANNEL)
    def get(self, code, order_no):
        """One order the channel user paid, or one for a person they identified."""
        return channel_payments.show_channel_order(code, channel_token(), order_no, container().uow(), parts())


@pages.route("/channels/<code>/message", methods=["GET", "POST"])
def message(code):
    """A platform's server calling us (the official account's URL check and messages)."""
    request.max_content_length = MESSAGE_MAX_BYTES
    inbound = InboundMessage(method=request.method, query=request.args.to_dict(), body=request.get_data())
    reply = channel_payments.handle_channel_message(code, inbound, parts().channels)
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


@pages.get("/channels/<code>/start")
def start(code):
    """A channel's menu or link lands here: on to the channel's authorization."""
    next_page = request.args.get("next") if request.args.get("next") in ("records",) else None
    entry = channel_sessions.begin_entry(code, parts(), region=request.args.get("region"), next_page=next_page)
    return redirect(entry["url"], code=302)


@pages.get("/channels/<code>/callback")
def callback(code):
    """Back from the channel's authorization: start the channel session and go to the payer pages."""
    auth_code = request.args.get("code") or request.args.get("auth_code") or ""  # Alipay calls it auth_code
    started = channel_sessions.start_channel_session(code, auth_code, request.args.get("state", ""), parts())
    session.update(channel=code, channel_token=started["channel_token"], channel_user=started["channel_user"],
                   payer_ref=started["payer_ref"])
    target = current_app.config["CHANNEL_PAGES_URL"].format(channel=code)
    return redirect(target + ("records" if started.get("next") == "records" else ""), code=302)
