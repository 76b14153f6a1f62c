"""Collections reports (征收统计): posted money per day, region, insurance, channel or provider over a
range of days, as rows with labels, a chart and a spreadsheet."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.domain.errors import InvalidInput
from app.domain.zone import shanghai_date
from app.domain.labels import CHANNEL_LABELS
from app.domain.money import yuan
from app.domain.policy import INSURANCE_LABELS
from app.services.backoffice_ports import BackofficeDeps

DIMENSIONS = {"day": "日期", "region": "统筹区", "insurance": "险种", "channel": "渠道", "provider": "支付机构"}
MAX_DAYS = 366
PROVIDER_LABELS = {"wechatpay": "微信支付", "alipay": "支付宝", "unionpay": "银联", "agreement": "银行扣款（协议）",
                   "counter": "银行柜台", "fake": "测试渠道"}


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    dimension: str
    rows: list[dict]  # {key, label, count, amount_fen}
    total_count: int
    total_fen: int

    @property
    def dimension_label(self) -> str:
        return DIMENSIONS[self.dimension]


def collections(start: date | None, end: date | None, dimension: str, deps: BackofficeDeps, policies) -> Report:
    """The collections of [start, end] (Beijing days) per dimension; defaults to the last 30 days by day."""
    end = end or shanghai_date(deps.clock.now())
    start = start or end - timedelta(days=29)
    if dimension not in DIMENSIONS:
        raise InvalidInput("report_dimension_invalid", "统计维度不存在", field="dimension")
    if start > end or (end - start).days >= MAX_DAYS:
        raise InvalidInput("report_range_invalid", f"起止日期有误（起始不晚于截止，跨度不超过{MAX_DAYS}天）", field="start")
    rows = deps.reads().collections(start, end, dimension)
    for row in rows:
        row["label"] = _label(dimension, row["key"], policies)
    return Report(start, end, dimension, rows, sum(r["count"] for r in rows), sum(r["amount_fen"] for r in rows))


def _label(dimension: str, key: str, policies) -> str:
    if dimension == "region":
        return policies.region_name(key) or key  # a region no longer configured still shows, by its code
    if dimension == "insurance":
        return INSURANCE_LABELS.get(key, key)
    if dimension == "channel":
        return CHANNEL_LABELS.get(key, key)
    if dimension == "provider":
        return PROVIDER_LABELS.get(key, key)
    return key


def chart_svg(report: Report, deps: BackofficeDeps) -> str:
    title = f"征收金额（{report.start}至{report.end}，按{report.dimension_label}）"
    return deps.reports.bar_chart_svg(title, [r["label"] for r in report.rows],
                                      [r["amount_fen"] / 100 for r in report.rows], "元")


def workbook(report: Report, deps: BackofficeDeps) -> bytes:
    rows = [[r["label"], r["count"], float(yuan(r["amount_fen"]))] for r in report.rows]
    rows.append(["合计", report.total_count, float(yuan(report.total_fen))])
    return deps.reports.xlsx("征收统计", [report.dimension_label, "笔数", "金额（元）"], rows)
