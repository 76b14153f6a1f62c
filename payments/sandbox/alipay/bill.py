"""The sandbox's daily trade bill, in Alipay's own format.

A zip of two GBK CSV files, ``<account>_<yyyymmdd>_业务明细.csv`` and its ``(汇总)`` summary,
where the account is the seller PID followed by ``0156``. The detail file has ``#`` comment
lines around the table, ids end with a tab (as Alipay writes them), and refunds are rows of
业务类型 退款 with negative amounts and the refund request number. Simplified: the member
names are stored in UTF-8 (Alipay's are GBK without the zip UTF-8 flag), and every amount but
订单金额 / 商家实收 is zero (no fees, discounts or red packets).
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta

HEADER = ["支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号",
          "门店名称", "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）",
          "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称",
          "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注"]
_SUMMARY_HEADER = ["门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）",
                   "支付宝优惠（元）", "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）"]
_LINE = "-" * 41
_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class BillRow:
    """One row of the detail: a payment (交易) or a refund (退款, negative amount)."""

    trade_no: str
    out_trade_no: str
    kind: str  # 交易 or 退款
    subject: str
    created_at: datetime
    finished_at: datetime
    buyer: str
    amount_fen: int
    refund_no: str = ""


def trade_bill_zip(day: date, seller_id: str, rows: list[BillRow], exported_at: datetime) -> bytes:
    """The zip Alipay serves at the bill download URL."""
    account = f"{seller_id}0156"
    stamp = day.strftime("%Y%m%d")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{account}_{stamp}_业务明细.csv", _detail(day, account, rows, exported_at))
        archive.writestr(f"{account}_{stamp}_业务明细(汇总).csv", _summary(day, account, rows, exported_at))
    return buffer.getvalue()


def _detail(day: date, account: str, rows: list[BillRow], exported_at: datetime) -> bytes:
    payments = [row for row in rows if row.kind == "交易"]
    refunds = [row for row in rows if row.kind == "退款"]
    out = io.StringIO()
    out.write("#支付宝业务明细查询\r\n")
    out.write(f"#账号：[{account}]\r\n")
    out.write(f"#起始日期：[{_cn(day)} 00:00:00]   终止日期：[{_cn(day + timedelta(days=1))} 00:00:00]\r\n")
    out.write(f"#{_LINE}业务明细列表{_LINE}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        amount = _yuan(row.amount_fen)
        writer.writerow([f"{row.trade_no}\t", f"{row.out_trade_no}\t", row.kind, row.subject,
                         row.created_at.strftime(_TIME), row.finished_at.strftime(_TIME), "", "", "", "",
                         row.buyer, amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00",
                         "0.00", f"{row.refund_no}\t" if row.refund_no else "", "0.00", "0.00", ""])
    out.write(f"#{_LINE}业务明细列表结束{_LINE}\r\n")
    out.write(f"#交易合计：{len(payments)}笔，商家实收共{_yuan(sum(r.amount_fen for r in payments))}元，商家优惠共0.00元\r\n")
    out.write(f"#退款合计：{len(refunds)}笔，商家实收退款共{_yuan(sum(r.amount_fen for r in refunds))}元，商家优惠退款共0.00元\r\n")
    out.write(f"#导出时间：[{_cn(exported_at)} {exported_at.strftime('%H:%M:%S')}]\r\n")
    return out.getvalue().encode("gbk", errors="replace")


def _summary(day: date, account: str, rows: list[BillRow], exported_at: datetime) -> bytes:
    total = sum(row.amount_fen for row in rows)
    out = io.StringIO()
    out.write("#支付宝业务汇总查询\r\n")
    out.write(f"#账号：[{account}]\r\n")
    out.write(f"#起始日期：[{_cn(day)} 00:00:00]   终止日期：[{_cn(day + timedelta(days=1))} 00:00:00]\r\n")
    out.write(f"#{_LINE}业务汇总列表{_LINE}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_SUMMARY_HEADER)
    writer.writerow(["", "合计", sum(r.kind == "交易" for r in rows), sum(r.kind == "退款" for r in rows),
                     _yuan(total), _yuan(total), "0.00", "0.00", "0.00", "0.00", "0.00", _yuan(total)])
    out.write(f"#{_LINE}业务汇总列表结束{_LINE}\r\n")
    out.write(f"#导出时间：[{_cn(exported_at)} {exported_at.strftime('%H:%M:%S')}]\r\n")
    return out.getvalue().encode("gbk", errors="replace")


def _cn(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"
