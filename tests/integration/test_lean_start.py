"""A command that renders no document does not load the document libraries (the bulk job's memory)."""
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
print(json.dumps(sorted(m for m in ("reportlab", "openpyxl") if m in sys.modules)))
"""


def test_the_app_starts_without_reportlab_or_openpyxl_until_a_document_is_rendered(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE, f"sqlite:///{tmp_path / 'lean.db'}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []

