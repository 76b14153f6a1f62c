"""The sandbox's daily trade bill (交易账单), written in WeChat Pay's own file format.

Layout as WeChat documents it: a UTF-8 BOM, the detail header, detail rows with every field
prefixed by a backtick, then the summary header and the summary row; CRLF line ends; amounts in
yuan with two decimals. Payments are dated by their success time, refunds by the time WeChat
accepted them. Fee columns are zero: the sandbox charges nothing.
"""
from __future__ import annotations

from decimal import Decimal

from payments.sandbox.wechatpay.ledger import SHANGHAI, Order, Refund

DETAIL_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
                 "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
                 "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
                 "费率备注")
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def yuan(fen: int) -> str:
    """Integer fen as WeChat's yuan text, exactly: 1234 -> "12.34"."""
    return str(Decimal(fen).scaleb(-2))


def _row(values: list[str]) -> str:
    # A backtick opens every field; one inside a value would split it, so it is replaced.
    return ",".join("`" + value.replace("`", "'") for value in values)


def _when(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _payment_row(order: Order) -> list[str]:
    return [_when(order.success_time), order.appid, order.mchid, "0", "", order.transaction_id,
            order.out_trade_no, order.openid or "", order.trade_type, "SUCCESS", "OTHERS", "CNY",
            yuan(order.total), "0.00", "0", "0", "0.00", "0.00", "", "", order.description,
            order.attach or "", "0.00", "0.00%", yuan(order.total), "0.00", ""]


def _refund_row(refund: Refund, order: Order) -> list[str]:
    return [_when(refund.create_time), order.appid, order.mchid, "0", "", refund.transaction_id,
            order.out_trade_no, order.openid or "", order.trade_type, "REFUND", "OTHERS", "CNY",
            "0.00", "0.00", refund.refund_id, refund.out_refund_no, yuan(refund.refund), "0.00",
            "ORIGINAL", refund.status, order.description, order.attach or "", "0.00", "0.00%",
            yuan(order.total), yuan(refund.refund), ""]


def trade_bill(payments: list[Order], refunds: list[tuple[Refund, Order]],
               bill_type: str = "ALL") -> str:
    """The bill text of one day; ``bill_type`` ALL, SUCCESS (payments) or REFUND."""
    if bill_type == "SUCCESS":
        refunds = []
    elif bill_type == "REFUND":
        payments = []
    rows = [_payment_row(o) for o in payments] + [_refund_row(r, o) for r, o in refunds]
    settled = sum(o.total for o in payments)
    refunded = sum(r.refund for r, _ in refunds)
    summary = [str(len(rows)), yuan(settled), yuan(refunded), "0.00", "0.00", yuan(settled),
               yuan(refunded)]
    lines = [DETAIL_HEADER, *(_row(row) for row in rows), SUMMARY_HEADER, _row(summary)]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"
