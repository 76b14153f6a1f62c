"""A report's chart and spreadsheet: SVG drawn server-side by pygal (no script, no CDN: the page
embeds the SVG, which carries its own title for screen readers, beside the table with the same
figures), xlsx by openpyxl. Both are imported on first use, so starting the app stays lean."""
from __future__ import annotations

import io

FONTS = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'


class PygalOpenpyxlReports:
    def bar_chart_svg(self, title: str, labels: list[str], values: list[float], unit: str) -> str:
        import pygal
        from pygal.style import Style

        style = Style(background="white", plot_background="white", foreground="#1f2329",
                      foreground_strong="#1f2329", foreground_subtle="#5c636b", colors=("#12386b",),
                      font_family=FONTS)
        chart = pygal.Bar(style=style, width=900, height=380, show_legend=False, x_label_rotation=30,
                          disable_xml_declaration=True, js=[],  # no script: the tooltips' JS would come from a CDN
                          value_formatter=lambda v: f"{v:,.2f} {unit}")
        chart.title = title
        chart.x_labels = labels
        chart.add(unit, values)
        return chart.render(is_unicode=True)

    def xlsx(self, title: str, header: list[str], rows: list[list]) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        sheet = book.active
        sheet.title = title[:31]
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for column, width in zip("ABC", (24, 12, 16)):
            sheet.column_dimensions[column].width = width
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
