"""Back-office pages: reconciliation (对账) per day and provider — both sides' totals, the differences,
and running a day again (财务 only; re-running records nothing new when nothing changed)."""
from __future__ import annotations

from datetime import date

from flask import Flask, current_app, flash, g, redirect, request, url_for

from app.domain.errors import InvalidInput
from app.domain.reconciliation import KINDS
from app.domain.staff import ANY_ROLE, FINANCE
from app.services import reconciliation
from app.web.backoffice import audit, make_blueprint, nav_item, render_page, staff_page

bp = make_blueprint("backoffice_reconciliation", "/backoffice/reconciliation")
KIND_LABELS = dict(zip(KINDS, ("我方无此扣款", "渠道无此扣款", "金额不一致", "重复扣款", "扣款未入账完毕", "已退款仍入库",
                               "我方未申请的退款", "渠道无此退款", "退款金额不一致", "我方记为失败的退款")))


def _c():
    return current_app.extensions["sbf"]


def _day(text: str | None, field: str = "day") -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("reconciliation_day_invalid", "日期格式应为 YYYY-MM-DD", field=field) from None


@bp.get("")
@staff_page(ANY_ROLE)
def index():
    """Runs of a day and/or provider with both sides' totals; the differences of the chosen ones."""
    c = _c()
    day, provider = _day(request.args.get("day")), request.args.get("provider") or None
    runs = reconciliation.list_runs(day, provider, c.reconciliation_book, limit=60)
    differences = reconciliation.list_differences(c.reconciliation_book, day=day, provider=provider, limit=200) \
        if day or provider else []
    return render_page("backoffice/reconciliation.html", runs=runs, differences=differences, day=day or "",
                       provider=provider or "", providers=sorted(c.providers), kinds=KIND_LABELS,
                       may_act=g.staff.may((FINANCE,)))


@bp.post("/runs")
@staff_page((FINANCE,))
def run():
    """Reconcile a day of a provider (again)."""
    c = _c()
    day, provider = _day(request.form.get("day")), request.form.get("provider", "")
    if day is None:
        raise InvalidInput("reconciliation_day_required", "请选择对账日期", field="day")
    report = reconciliation.reconcile_day(day, provider, c.providers, c.reconciliation_book, c.clock)
    audit("reconciliation.run", f"reconciliation:{provider}:{day}", state=report.run.state,
          differences=report.run.difference_count, new=report.new_differences)
    flash(f"{day} {provider} 对账完成：差异 {report.run.difference_count} 笔（新增 {report.new_differences} 笔）"
          if report.run.state == "done" else f"{day} {provider} 对账单暂不可得：{report.run.error or ''}", "notice")
    return redirect(url_for(".index", day=day.isoformat(), provider=provider))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav_item(app, "backoffice_reconciliation.index", "对账")
