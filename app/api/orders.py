"""Orders and provider notifications."""
from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.datastructures import Headers
from flask.views import MethodView

from app.api import schemas as s
from app.api.channels import CHANNEL_HEADER
from app.api.deps import container, session_payer_and_persons, session_person_ids
from app.api.parsing import Blueprint
from app.domain.errors import NotFound
from app.services import channel_payments, orders, settlement
from payments.base import IncomingNotification

blp = Blueprint("orders", __name__, url_prefix="/api/v1", description="订单与支付结果通知")
SESSION = [{"sessionToken": []}]
SESSION_OR_CHANNEL = [{"sessionToken": []}, {"channelToken": [], "sessionToken": []}]
PROVIDER_FORMATS = {"application/json": {}, "text/plain": {}}  # what the providers' acknowledgements are written in
API_CHANNEL = "api"  # an API client without a channel session pays through the open API


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(s.OrderIn)
    @blp.response(201, s.OrderOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(security=SESSION_OR_CHANNEL)
    def post(self, data):
        """Create an order for confirmed assessments and open the payment.

        Who pays is never taken from the body: with a channel session (X-Channel-Token) the channel and its
        user pay; otherwise the API client pays as the person of the first X-Session-Token, the channel is
        ``api``, and any further tokens are family members paid for (代他人缴费).
        """
        c = container()
        payer_id, person_ids = session_payer_and_persons()
        new = orders.NewOrder(person_ids=person_ids, assessment_ids=data["assessment_ids"], channel=API_CHANNEL,
                              method=data["method"], confirmed_amount_fen=data["confirmed_amount_fen"],
                              payer_person_id=payer_id, client_ip=request.remote_addr)
        token = request.headers.get(CHANNEL_HEADER)
        if token:  # the channel session says who pays (its user) and through which channel
            code = channel_payments.channel_of_session(token, c.channels.sessions)
            return channel_payments.create_channel_order(code, token, new, c.uow(), c.payments, c.channels)
        return orders.create_order(new, c.uow(), c.payments)

    @blp.response(200, s.OrderOut(many=True))
    @blp.doc(security=SESSION)
    def get(self):
        """The identified persons' orders."""
        return orders.list_orders(session_person_ids(), container().uow())


@blp.route("/orders/<order_no>")
class OrderDetail(MethodView):
    @blp.response(200, s.OrderOut)
    @blp.doc(security=SESSION)
    def get(self, order_no):
        """One order: state, items, e-ticket numbers, refunds."""
        return orders.show_order(order_no, session_person_ids(), container().uow())


@blp.route("/orders/<order_no>/cancel")
class OrderCancel(MethodView):
    @blp.response(200, s.OrderOut)
    @blp.doc(security=SESSION)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, order_no):
        """Cancel an unpaid order (closed at the provider first)."""
        c = container()
        return orders.cancel_order(order_no, session_person_ids(), c.uow(), c.payments)


@blp.route("/vouchers/<order_no>.pdf")
class Voucher(MethodView):
    @blp.doc(security=SESSION, summary="The bank counter voucher (银行端查询缴费凭证) as a PDF",
             parameters=[{"in": "query", "name": "token", "schema": {"type": "string"},
                          "description": "the session token, for links opened in a browser"}])
    def get(self, order_no):
        c = container()
        person_ids = session_person_ids(request.args.get("token"))
        voucher = orders.voucher_for_order(order_no, person_ids, c.uow(), c.policies)
        return Response(c.documents.voucher_pdf(voucher), content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="voucher-{order_no}.pdf"'})


@blp.route("/notify/<provider>", methods=["POST"])
@blp.doc(summary="Provider notification endpoint (signed by the provider)", responses={
    "200": {"description": "handled, acknowledged in the provider's own format", "content": PROVIDER_FORMATS},
    "204": {"description": "handled (WeChat Pay: an empty answer)"},
    "400": {"description": "not handled (forged, mismatched, malformed), in the provider's format: it sends again",
            "content": PROVIDER_FORMATS}})
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
def notify(provider):
    request.max_content_length = current_app.config["NOTIFY_MAX_CONTENT_LENGTH"]  # a notification is a few KB
    c = container()
    if provider not in c.providers:
        raise NotFound("provider_unknown", "未知的支付渠道", field="provider")
    incoming = IncomingNotification(headers=Headers(request.headers), body=request.get_data(),
                                    content_type=request.content_type or "")
    ack = settlement.receive_notification(provider, incoming, c.uow(), c.payments)
    return Response(ack.body, status=ack.status, content_type=ack.content_type)
