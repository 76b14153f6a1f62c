"""Back-office pages: the collections report (征收统计) as a table, a chart and an xlsx download."""
from __future__ import annotations

from datetime import date

from flask import Flask, Response, current_app, request
from markupsafe import Markup

from app.domain.errors import InvalidInput
from app.domain.staff import ANY_ROLE
from app.services import backoffice_reports as reports
from app.web.backoffice import audit, deps, make_blueprint, nav_item, render_page, staff_page

bp = make_blueprint("backoffice_reports", "/backoffice/reports")


def _day(name: str) -> date | None:
    text = request.args.get(name) or ""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("report_date_invalid", "日期格式应为 YYYY-MM-DD", field=name) from None


def _report() -> reports.Report:
    return reports.collections(_day("start"), _day("end"), request.args.get("dimension") or "day", deps(),
                               current_app.extensions["sbf"].policies)


@bp.get("/collections")
@staff_page(ANY_ROLE)
def collections():
    """Collections per day / region / insurance / channel / provider, with a chart."""
    report = _report()
    chart = Markup(reports.chart_svg(report, deps())) if report.rows else None  # our own SVG, drawn server-side
    return render_page("backoffice/report_collections.html", r=report, chart=chart, dimensions=reports.DIMENSIONS)


@bp.get("/collections.xlsx")
@staff_page(ANY_ROLE)
def collections_xlsx():
    """The same report as a spreadsheet."""
    report = _report()
    audit("report.download", f"report:collections:{report.dimension}", start=str(report.start), end=str(report.end))
    name = f"collections-{report.dimension}-{report.start}-{report.end}.xlsx"
    return Response(reports.workbook(report, deps()),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav_item(app, "backoffice_reports.collections", "统计报表")
