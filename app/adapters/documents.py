"""The document renderer the views reach through the composition root (reportlab, Pillow, openpyxl).

Each renderer is imported on its first use, not with this module: reportlab and openpyxl weigh
about 30 MB and a second of start-up, which a command that renders nothing (``flask bulk
declare-year``, ``flask migrate``) should not pay.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Documents:
    """Implements ``DocumentRenderer``; the PNG needs a CJK font from ``font_paths``."""

    font_paths: Iterable[str] = ()

    def voucher_pdf(self, voucher: dict) -> bytes:
        from app.adapters.voucher_pdf import render_voucher_pdf
        return render_voucher_pdf(voucher)

    def certificate_pdf(self, document: dict) -> bytes:
        from app.adapters.certificate_pdf import render_certificate_pdf
        return render_certificate_pdf(document)

    def record_pdf(self, record: dict) -> bytes:
        from app.adapters.contribution_record import render_record_pdf
        return render_record_pdf(record)

    def record_png(self, record: dict) -> bytes:
        from app.adapters.contribution_record import render_record_png
        return render_record_png(record, self.font_paths)

    def statement_csv(self, statement: dict) -> bytes:
        from app.adapters.statement_files import statement_csv
        return statement_csv(statement)

    def statement_xlsx(self, statement: dict) -> bytes:
        from app.adapters.statement_files import statement_xlsx
        return statement_xlsx(statement)
