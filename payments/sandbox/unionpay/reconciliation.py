"""The UnionPay sandbox's daily reconciliation file, as the file transfer (txnType 76) serves it.

A zip holding the merchant's ZM detail file (``INN<yymmdd>88ZM_<merId>``, GBK, fixed-width
columns each followed by a space, in UnionPay's column order) and an empty ZME (errors) file;
``fileContent`` is base64 of the zlib-deflated zip. The sandbox fills the columns a merchant
reads (times, amounts, queryIds, orderIds, txnType, merId) truly; the others carry plausible
placeholders (``txnCode`` S22 / S30, institution codes, a masked card number).
"""
from __future__ import annotations

import base64
import io
import zipfile
import zlib
from datetime import date

from payments.sandbox.unionpay.ledger import Order, Refund
from payments.unionpay.statement import ZM_FIELDS


def _line(values: dict[str, str]) -> bytes:
    cells = []
    for name, width in ZM_FIELDS:
        cell = values.get(name, "").encode("gbk")
        if len(cell) > width:
            raise ValueError(f"{name} is wider than {width} bytes")
        cells.append(cell.ljust(width))
    return b" ".join(cells) + b" "


def _common(mer_id: str) -> dict[str, str]:
    return {"acqInsCode": "00010000", "sendInsCode": "00010000", "accNo": "6216********0018",
            "merCatCode": "9311", "termType": "08", "payCardType": "01", "merFee": "0" * 13, "bizType": "000000",
            "accType": "01", "interactMode": "1", "merId": mer_id, "divideMode": "0", "txnMedium": "0"}


def payment_line(order: Order, mer_id: str) -> bytes:
    return _line({**_common(mer_id), "txnCode": "S22", "traceNo": order.trace_no or "",
                  "txnTime": order.txn_time[4:], "txnAmt": f"{order.amount_fen:012d}",
                  "queryId": order.pay_query_id or "", "orderId": order.order_no,
                  "settleAmt": f"{order.amount_fen:013d}", "settleNetAmt": f"{order.amount_fen:013d}",
                  "txnType": "01", "txnSubType": "07"})


def refund_line(refund: Refund, mer_id: str) -> bytes:
    # the merchant field echoes reqReserved, where the adapter sends the original order number
    return _line({**_common(mer_id), "txnCode": "S30", "traceNo": refund.trace_no, "txnTime": refund.txn_time[4:],
                  "txnAmt": f"{refund.amount_fen:012d}", "queryId": refund.query_id, "orderId": refund.refund_no,
                  "settleAmt": f"{refund.amount_fen:013d}", "settleNetAmt": f"{refund.amount_fen:013d}",
                  "txnType": "04", "txnSubType": "00", "origQryId": refund.orig_qry_id,
                  "merReserved": (refund.req_reserved or "")[:32]})


def file_content(day: date, mer_id: str, payments: list[Order], refunds: list[Refund]) -> tuple[str, str]:
    """(fileName, fileContent) of the day's reconciliation zip."""
    detail = b"".join(payment_line(o, mer_id) + b"\r\n" for o in payments)
    detail += b"".join(refund_line(r, mer_id) + b"\r\n" for r in refunds)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"INN{day:%y%m%d}88ZM_{mer_id}", detail)
        zipped.writestr(f"INN{day:%y%m%d}88ZME_{mer_id}", b"")
    return f"{mer_id}_{day:%Y%m%d}.zip", base64.b64encode(zlib.compress(archive.getvalue())).decode("ascii")
