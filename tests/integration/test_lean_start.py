"""A command that renders no document, migrates nothing, draws no QR code and scores no password loads none
of their libraries, and one that never pays loads no payment SDK (the bulk job's peak memory is mostly the
app's start-up)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.production import random_key
from tests.unit.test_settings import rsa_pair

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



# the payment SDKs (pycryptodome comes with python-alipay-sdk) and the sandbox gateways the providers are wired to
PAYMENT_SDKS = ("alipay", "wechatpayv3", "Cryptodome", "payments.sandbox")

BULK_PROBE = """
import json, sys
from app.adapters.clock import FixedClock
from app.factory import create_app
from config.settings import load_settings
from tests.timeline import TODAY
settings_name, database_url = sys.argv[1:3]
values = load_settings(settings_name)  # production: every start-up check, the providers' factories bound
values["DATABASE_URL"] = database_url  # then a scratch SQLite file, which production itself refuses
app = create_app(values, clock=FixedClock(TODAY))  # the providers as configured, none replaced
done = app.test_cli_runner().invoke(args=["bulk", "declare-year", "--region", "520000", "--year", "2027"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in PAYMENT_SDKS or m.startswith(PAYMENT_SDKS))
print(json.dumps({"exit_code": done.exit_code, "output": done.output, "loaded": loaded}))
""".replace("PAYMENT_SDKS", repr(PAYMENT_SDKS))


def _bulk_probe(settings_name: str, tmp_path, env=None) -> dict:
    from app.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    upgrade_database(url)
    done = subprocess.run([sys.executable, "-c", BULK_PROBE, settings_name, url], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_bulk_declaration_runs_without_loading_a_payment_sdk_or_the_sandbox_gateways(tmp_path):
    probe = _bulk_probe("testing", tmp_path)  # no PAYMENT_PROVIDERS: the sandbox gateways would be wired
    assert probe["exit_code"] == 0, probe["output"]
    assert "created 0, declared 0 of 0 eligible" in probe["output"]
    assert probe["loaded"] == []


def test_production_checks_every_configured_provider_at_start_without_loading_its_sdk(tmp_path):
    ours, theirs = rsa_pair(), rsa_pair()  # production loads both at start (config/checks.py), without an SDK
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps({
        "PAYMENT_PROVIDERS": {
            "wechatpay": ["payments.wechatpay.provider:build", {
                "mchid": "1900000109", "appid": "wx8888888888888888", "merchant_serial_no": "5157F09EFDC096DE",
                "private_key": ours[0], "apiv3_key": "k" * 32, "platform_public_key": theirs[1],
                "platform_public_key_id": "PUB_KEY_ID_0119000001092024"}],
            "alipay": ["payments.alipay.provider:build", {
                "app_id": "2021000000000000", "seller_id": "2088000000000000",
                "app_private_key": ours[0], "alipay_public_key": theirs[1]}],
            "counter": ["payments.counter.provider:build", {}]},
        "CHANNELS": {"alipay_citizen": ["channels.alipay_citizen.adapter:build", {
            "app_id": "2021000000000001", "app_private_key": ours[0], "alipay_public_key": theirs[1]}]},
        "COUNTER_BANK_KEYS": {"ccb": random_key()}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SBF_")}
    env.update(SBF_SETTINGS_FILE=str(settings_file), SBF_ENCRYPTION_KEY=random_key(), SBF_INDEX_KEY=random_key(),
               SBF_SECRET_KEY=random_key(), SBF_DATABASE_URL="postgresql+psycopg://sbf@db.internal/sbf",
               SBF_REDIS_URL="redis://redis.internal:6379/0", SBF_PUBLIC_BASE_URL="https://sbf.example.gov.cn")
    probe = _bulk_probe("production", tmp_path, env)
    assert probe["exit_code"] == 0, probe["output"]
    assert probe["loaded"] == []


def test_the_payment_qr_code_still_draws_when_a_page_asks_for_it():
    from base64 import b64decode

    from app.web.pages import _qr_svg

    uri = _qr_svg("weixin://wxpay/bizpayurl?pr=abc123")
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = b64decode(uri.partition(",")[2]).decode()
    assert "<svg" in svg and "<path" in svg
