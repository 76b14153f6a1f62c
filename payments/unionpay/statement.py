"""UnionPay's daily reconciliation file (对账文件): unpacking and reading its ZM detail file.

The file transfer answer (txnType 76, fileType 00) carries ``fileContent``: base64 of the
zlib-deflated bytes of a zip (UnionPay SDKs: ``SDKUtil.deCodeFileContent``). The zip holds,
among others, the merchant's detail file ``INN<yymmdd>88ZM_<merId>``: GBK text, one
transaction per line, fixed-width columns each followed by one space, in the order of
``ZM_FIELDS`` (UnionPay's 全渠道 file interface; the widths are those UnionPay's demo code
reads with). Amounts are fen, zero-padded; times are ``MMDDhhmmss`` without a year.
"""
from __future__ import annotations

import base64
import io
import zipfile
import zlib
from datetime import date, datetime, tzinfo

from payments.base import StatementLine

# (name, width in bytes) of the ZM detail file, in column order
ZM_FIELDS: tuple[tuple[str, int], ...] = (
    ("txnCode", 3),  # 交易代码
    ("acqInsCode", 11),  # 代理机构标识码
    ("sendInsCode", 11),  # 发送机构标识码
    ("traceNo", 6),  # 系统跟踪号
    ("txnTime", 10),  # 交易传输时间 MMDDhhmmss
    ("accNo", 19),  # 帐号 (masked)
    ("txnAmt", 12),  # 交易金额 (fen)
    ("merCatCode", 4),  # 商户类别
    ("termType", 2),  # 终端类型
    ("queryId", 21),  # 查询流水号
    ("oldPayType", 2),  # 支付方式（旧）
    ("orderId", 32),  # 商户订单号
    ("payCardType", 2),  # 支付卡类型
    ("origTraceNo", 6),  # 原始交易的系统跟踪号
    ("origTxnTime", 10),  # 原始交易日期时间
    ("merFee", 13),  # 商户手续费
    ("settleAmt", 13),  # 结算金额
    ("payType", 4),  # 支付方式
    ("groupMerId", 15),  # 集团商户代码
    ("txnType", 2),  # 交易类型
    ("txnSubType", 2),  # 交易子类
    ("bizType", 6),  # 业务类型
    ("accType", 2),  # 帐号类型
    ("billType", 4),  # 账单类型
    ("billNo", 32),  # 账单号码
    ("interactMode", 1),  # 交互方式
    ("origQryId", 21),  # 原交易查询流水号
    ("merId", 15),  # 商户代码
    ("divideMode", 1),  # 分账入账方式
    ("subMerId", 15),  # 二级商户代码
    ("subMerAbbr", 32),  # 二级商户简称
    ("subMerAmt", 13),  # 二级商户分账入账金额
    ("settleNetAmt", 13),  # 清算净额
    ("termId", 8),  # 终端号
    ("merReserved", 32),  # 商户自定义域
    ("discountAmt", 13),  # 优惠金额
    ("invoiceAmt", 13),  # 发票金额
    ("instalmentFee", 12),  # 分期付款附加手续费
    ("instalments", 2),  # 分期付款期数
    ("txnMedium", 1),  # 交易介质
    ("reserved", 131),  # 保留使用
)

TXN_CONSUME = "01"
TXN_REFUND = "04"


def unpack_file_content(file_content: str) -> dict[str, bytes]:
    """The files of the zip inside ``fileContent``, by name."""
    archive = zlib.decompress(base64.b64decode(file_content, validate=True))
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def is_detail_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.startswith("INN") and "ZM_" in base and "ZME_" not in base


def parse_detail_file(data: bytes) -> list[dict[str, str]]:
    """The columns of every line of a ZM file, stripped, by name."""
    rows = []
    for raw in data.splitlines():
        if not raw.strip():
            continue
        row, start = {}, 0
        for name, width in ZM_FIELDS:
            # widths count GBK bytes, so cut the bytes before decoding
            row[name] = raw[start:start + width].decode("gbk").strip()
            start += width + 1
        rows.append(row)
    return rows


def moment(mmddhhmmss: str, near: datetime) -> datetime | None:
    """A year-less ``MMDDhhmmss`` read as the moment closest to ``near`` (same time zone)."""
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            candidates.append(datetime.strptime(f"{year}{mmddhhmmss}", "%Y%m%d%H%M%S").replace(tzinfo=near.tzinfo))
        except ValueError:
            continue  # 29 February in a common year
    return min(candidates, key=lambda c: abs(c - near)) if candidates else None


def statement_lines(rows: list[dict[str, str]], day: date, zone: tzinfo, mer_id: str) -> list[StatementLine]:
    """Payments and refunds of our merchant number as StatementLines.

    A refund line names the refund's own orderId; the original order number is read from
    the merchant field (we send it as ``reqReserved``), else from the payment line with the
    refund's ``origQryId`` in the same file.
    """
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    order_of_payment = {r["queryId"]: r["orderId"] for r in rows if r["txnType"] == TXN_CONSUME}
    lines = []
    for row in rows:
        if row["merId"] != mer_id or row["txnType"] not in (TXN_CONSUME, TXN_REFUND):
            continue
        amount_fen = int(row["txnAmt"])
        at = moment(row["txnTime"], noon)
        if row["txnType"] == TXN_CONSUME:
            lines.append(StatementLine("payment", row["orderId"], amount_fen, provider_trade_no=row["queryId"], at=at))
        else:
            order_no = row["merReserved"] or order_of_payment.get(row["origQryId"], "")
            lines.append(StatementLine("refund", order_no, amount_fen, provider_trade_no=row["origQryId"],
                                       refund_no=row["orderId"], at=at))
    return lines


def settle_date(day: date) -> str:
    """``settleDate`` of the file transfer request: MMDD."""
    return day.strftime("%m%d")

