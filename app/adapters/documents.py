"""The document renderer the views reach through the composition root (reportlab, Pillow, openpyxl)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from app.adapters.certificate_pdf import render_certificate_pdf
from app.adapters.contribution_record import render_record_pdf, render_record_png
from app.adapters.statement_files import statement_csv, statement_xlsx
from app.adapters.voucher_pdf import render_voucher_pdf


@dataclass(frozen=True)
class Documents:
    """Implements ``DocumentRenderer``; the PNG needs a CJK font from ``font_paths``."""

    font_paths: Iterable[str] = ()

    def voucher_pdf(self, voucher: dict) -> bytes:
        return render_voucher_pdf(voucher)

    def certificate_pdf(self, document: dict) -> bytes:
        return render_certificate_pdf(document)

    def record_pdf(self, record: dict) -> bytes:
        return render_record_pdf(record)

    def record_png(self, record: dict) -> bytes:
        return render_record_png(record, self.font_paths)

    def statement_csv(self, statement: dict) -> bytes:
        return statement_csv(statement)

    def statement_xlsx(self, statement: dict) -> bytes:
        return statement_xlsx(statement)
