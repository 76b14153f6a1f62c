"""A command that renders no document, migrates nothing, draws no QR code and scores no password loads none
of their libraries (the bulk job's peak memory is mostly the app's start-up)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from app.factory import create_app
from config.settings import load_settings
values = load_settings("development")
values["DATABASE_URL"] = sys.argv[1]
app = create_app(values)
print(json.dumps(sorted(m for m in ("reportlab", "openpyxl", "alembic", "qrcode", "zxcvbn") if m in sys.modules)))
"""


def test_the_app_starts_without_the_document_migration_and_qr_code_libraries_until_they_are_used(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE, f"sqlite:///{tmp_path / 'lean.db'}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []



def test_the_payment_qr_code_still_draws_when_a_page_asks_for_it():
    from base64 import b64decode

    from app.web.pages import _qr_svg

    uri = _qr_svg("weixin://wxpay/bizpayurl?pr=abc123")
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = b64decode(uri.partition(",")[2]).decode()
    assert "<svg" in svg and "<path" in svg
