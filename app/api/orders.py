"""Orders and provider notifications."""
from __future__ import annotations

from flask import Response, request
from werkzeug.datastructures import Headers
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import schemas as s
from app.api.deps import container, session_person_ids
from app.services import orders, settlement
from payments.base import IncomingNotification

blp = Blueprint("orders", __name__, url_prefix="/api/v1", description="订单与支付结果通知")
SESSION = [{"sessionToken": []}]


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(s.OrderIn)
    @blp.response(201, s.OrderOut)
    @blp.doc(security=SESSION)
    def post(self, data):
        """Create an order for confirmed assessments and open the payment."""
        c = container()
        person_ids = session_person_ids()
        new = orders.NewOrder(person_ids=person_ids, assessment_ids=data["assessment_ids"], channel=data["channel"],
                              method=data["method"], confirmed_amount_fen=data["confirmed_amount_fen"],
                              payer_person_id=person_ids[0], payer_ref=data.get("payer_ref"),
                              client_ip=request.remote_addr)
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
@blp.doc(summary="Provider notification endpoint (signed by the provider)")
def notify(provider):
    c = container()
    incoming = IncomingNotification(headers=Headers(request.headers), body=request.get_data(),
                                    content_type=request.content_type or "")
    ack = settlement.receive_notification(provider, incoming, c.uow(), c.payments)
    return Response(ack.body, status=ack.status, content_type=ack.content_type)
