"""Settings: one class per way of running. ``SBF_SETTINGS`` picks one; ``SBF_*`` variables override.

development — the zero-setup run command: SQLite file in instance/, in-process sessions,
              keys generated into instance/ on first start, sandbox gateways.
testing     — the test command: PostgreSQL and Redis on localhost, fixed test keys.
production  — everything from the environment; refuses to start without keys and URLs.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("SBF_INSTANCE_DIR", ROOT / "instance"))


class Base:
    API_TITLE = "社保费缴费服务 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs/static/"  # served from the swagger-ui-bundle package, no CDN
    JSON_AS_ASCII = False
    POLICY_DIR = str(ROOT / "config" / "policies")
    IDENTIFICATION_TTL_SECONDS = 1800
    DATABASE_URL = ""
    REDIS_URL = ""  # empty: in-process sessions (single process only)
    ENCRYPTION_KEY = ""  # base64 of 32 bytes
    INDEX_KEY = ""  # base64 of >= 32 bytes
    BUREAU_API_KEYS: tuple[str, ...] = ()
    SECRET_KEY = ""
    DEMO_PEOPLE_FILE = str(ROOT / "config" / "demo_people.json")
    SHOW_DEMO_PEOPLE = False
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"  # where providers send notifications
    ORDER_EXPIRY_MINUTES = 30
    PROVIDER_EXPIRY_MINUTES = {"counter": 3 * 24 * 60}  # a counter voucher is paid at a bank within days
    # {code: [dotted factory path, kwargs]}; empty means "wire the local sandbox gateways"
    PAYMENT_PROVIDERS: dict = {}
    SANDBOX_KEY_DIR = str(INSTANCE / "sandbox-keys")
    SANDBOX_URLS = {"wechatpay": "http://127.0.0.1:5101", "alipay": "http://127.0.0.1:5102",
                    "unionpay": "http://127.0.0.1:5103", "ccb": "http://127.0.0.1:5104"}
    SANDBOX_TIME_SCALE = 1.0
    COUNTER_BANK_KEYS: dict = {}  # bank code → shared secret authenticating its confirmations
    # -- feature settings: each feature adds its block below --
    # looking back: certificates, statements, verification, contribution record
    TREASURY_DELAY_WORKING_DAYS = 3  # posted money reaches the treasury (入库) ~3 working days later (seed)
    VERIFY_RATE_LIMIT = "20 per minute;300 per day"  # per client address, public verification (查验)
    RATELIMIT_STORAGE_URI = ""  # empty: REDIS_URL, or memory:// without Redis (app/limits.py)
    # a CJK TrueType font for the contribution record image; the first that exists is used
    CJK_FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                      "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    # channels (公众号, 城市服务, 市民中心, 云闪付): adapters, their sessions, identification limits
    CHANNELS: dict = {}  # {code: [dotted factory path, kwargs]}; empty: SANDBOX_CHANNELS on the local sandboxes
    SANDBOX_CHANNELS = ("wechat_oa", "wechat_city", "alipay_citizen", "unionpay_app", "tax_app")
    CHANNEL_SANDBOX_URLS = {"wechat": "http://127.0.0.1:5111", "unionpay_open": "http://127.0.0.1:5112"}
    CHANNEL_SESSION_TTL_SECONDS = 1800
    CHANNEL_PAGES_URL = "/h5/{channel}/"  # where a channel entry lands after authorization
    # failed identifications (wrong name or number) allowed, per channel user and per client address
    IDENTIFY_LIMIT_PER_CHANNEL_USER = "5 per 10 minutes;20 per day"
    IDENTIFY_LIMIT_PER_IP = "30 per 10 minutes;200 per day"
    # request sizes (bytes): any body beyond its limit is answered 413 payload_too_large before it is read
    MAX_CONTENT_LENGTH = 1024 * 1024  # Flask's own setting: the app-wide limit
    NOTIFY_MAX_CONTENT_LENGTH = 64 * 1024  # provider notifications and bank confirmations are a few KB
    BUREAU_MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # a bureau's push may carry tens of thousands of rows
    # accounts (tax app, web e-tax bureau): argon2id measured on this machine (app/adapters/account_security.py)
    ACCOUNT_ARGON2 = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
    ACCOUNT_SESSION_IDLE_MINUTES = 30
    ACCOUNT_SESSION_ABSOLUTE_HOURS = 8
    ACCOUNT_HUMAN_CHECK_MAX_NUMBER = 50_000  # ALTCHA proof-of-work: ~25k SHA-256 on average in the browser
    ACCOUNT_LIMITS: dict = {}  # overrides of app/services/account_ports.AccountSettings limits, e.g. login_limit_per_account
    ACCOUNT_SANDBOXES = True  # the SMS and identity-verification sandboxes (/sandbox/sms, /sandbox/identity)
    ACCOUNT_GATEWAYS: dict = {}  # without sandboxes: {"sms": [factory, kwargs], "identity": [factory, kwargs]}
    ACCOUNT_TICKET_SECRET = ""  # shared with the tax app channel; empty: a file in SANDBOX_KEY_DIR
    # methods narrowed by the region of the fees (税税通 青岛 seed 002; 移动办税 西藏 seed 004)
    CHANNEL_REGION_PAYMENT_METHODS = {"tax_app": {"370200": ["wechatpay.native", "alipay.qr", "unionpay.qr"],
                                                  "540000": ["ccb.card", "alipay.qr"]}}
    # -- end of feature settings --
    # which provider.method each channel offers (渠道 → 支付方式)
    CHANNEL_PAYMENT_METHODS = {
        "api": ["wechatpay.native", "wechatpay.jsapi", "alipay.wap", "alipay.qr", "unionpay.qr", "counter.voucher", "ccb.card"],
        "etax_web": ["wechatpay.native", "alipay.qr", "unionpay.qr", "counter.voucher"],
        "wechat_oa": ["wechatpay.jsapi"],
        "wechat_city": ["wechatpay.jsapi"],
        "alipay_citizen": ["alipay.wap"],
        "unionpay_app": ["unionpay.qr"],
        "tax_app": ["wechatpay.native", "alipay.qr", "unionpay.qr", "ccb.card"],
    }


def _instance_secrets() -> dict:
    """Keys for the zero-setup run, made once and kept in instance/ (never committed)."""
    from app.adapters.crypto import new_key_b64  # local: settings must stay importable without side effects

    path = INSTANCE / "secrets.json"
    wanted = {"ENCRYPTION_KEY": new_key_b64, "INDEX_KEY": new_key_b64, "SECRET_KEY": new_key_b64,
              "BUREAU_API_KEYS": lambda: [new_key_b64()], "COUNTER_BANK_KEYS": lambda: {"ccb": new_key_b64()}}
    current = json.loads(path.read_text()) if path.exists() else {}
    if set(wanted) - set(current):
        INSTANCE.mkdir(parents=True, exist_ok=True)
        current.update({k: make() for k, make in wanted.items() if k not in current})
        path.write_text(json.dumps(current))
    return current


class Development(Base):
    DEBUG = False
    SHOW_DEMO_PEOPLE = True  # the landing page lists the fictional demo people
    DATABASE_URL = f"sqlite:///{INSTANCE / 'sbf.db'}"

    def __init__(self):
        for key, value in _instance_secrets().items():
            setattr(self, key, tuple(value) if isinstance(value, list) else value)


class Testing(Base):
    TESTING = True
    DATABASE_URL = os.environ.get("SBF_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/sbf_test")
    REDIS_URL = os.environ.get("SBF_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    # fixed test keys: base64 of 32 known bytes — never used outside tests
    ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE="
    INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMhISE="
    SECRET_KEY = "test-secret"
    BUREAU_API_KEYS = ("test-bureau-key",)
    COUNTER_BANK_KEYS = {"ccb": "test-bank-secret"}
    SHOW_DEMO_PEOPLE = True
    ACCOUNT_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}  # fast tests; the bench measures the real one
    ACCOUNT_HUMAN_CHECK_MAX_NUMBER = 2_000
    ACCOUNT_LIMITS = {"sms_limit_per_phone": "3 per minute;10 per day"}  # a test may resend at once


class Production(Base):
    ACCOUNT_SANDBOXES = False
    def __init__(self):
        for key in ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY", "INDEX_KEY", "SECRET_KEY"):
            if not os.environ.get("SBF_" + key):
                raise RuntimeError(f"SBF_{key} must be set in production")


SETTINGS = {"development": Development, "testing": Testing, "production": Production}


def load_settings(name: str | None = None) -> dict:
    """The chosen settings as a dict, with SBF_* environment variables applied on top."""
    cls = SETTINGS[name or os.environ.get("SBF_SETTINGS", "development")]
    obj = cls()
    values = copy.deepcopy({k: getattr(obj, k) for k in dir(obj) if k.isupper()})
    for key in list(values):
        env = os.environ.get("SBF_" + key)
        if env is not None:
            values[key] = tuple(env.split(",")) if isinstance(values[key], tuple) else env
    return values
