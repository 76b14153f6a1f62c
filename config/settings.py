"""Settings: one class per way of running. ``SBF_SETTINGS`` picks one; ``SBF_*`` variables override.

development — the zero-setup run command: SQLite file in instance/, in-process sessions,
              keys generated into instance/ on first start, sandbox gateways.
testing     — the test command: PostgreSQL and Redis on localhost, fixed test keys.
production  — everything from the environment or one settings file (``SBF_SETTINGS_FILE``, JSON or
              TOML; see config/sources.py), checked at start (config/checks.py): refuses the
              sandboxes, a loopback public URL, missing or test-looking keys.
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
                    "unionpay": "http://127.0.0.1:5103", "bank": "http://127.0.0.1:5104",
                    "ccb": "http://127.0.0.1:5105"}
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
    # debit agreements (委托扣款协议), payment password, batch debit (统一扣款)
    PAYMENT_PASSWORD_MAX_WRONG = 3  # seed 001: 3 wrong entries log the payer out ...
    PAYMENT_PASSWORD_LOCK_MINUTES = 3  # ... and lock them for 3 minutes
    SMS_CODE_MINUTES = 5
    SMS_INBOX_VISIBLE = False  # GET /api/v1/sandbox/sms shows the sandbox SMS inbox (development only)
    # channels where 协议缴纳 is offered; only through the agreement payment (password checked),
    # never through the plain order endpoint, so it is not in CHANNEL_PAYMENT_METHODS
    AGREEMENT_PAYMENT_CHANNELS: tuple[str, ...] = ("api", "etax_web", "tax_app")
    BANK_FILE_DIR = str(INSTANCE / "bank-files")  # batch debit request and result files
    BATCH_DEBIT_REGIONS: tuple[str, ...] = ("370200", "520000", "540000")  # the scheduled job's regions
    BATCH_DEBIT_CHUNK = 20_000  # lines per transaction when collecting and posting
    # PostgreSQL's parallel workers per query during a reconciliation. 0: the database shares its
    # cores with the process reading the statement (one machine: workers take the reader's core);
    # raise it where PostgreSQL has cores of its own.
    RECONCILIATION_PARALLEL_WORKERS = 0
    # operations: proxies, cookies, request ids, logs, metrics, readiness (app/observability/)
    TRUSTED_PROXY_COUNT = 0  # proxies in front that set X-Forwarded-For/-Proto/-Host; 0: none, trust nothing
    REQUEST_ID_HEADER = "X-Request-ID"  # returned on every answer; taken from the request only behind a proxy
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    LOG_FORMAT = "json"  # json: one JSON object a line; text: for a person at a terminal
    LOG_LEVEL = "INFO"
    READY_POLICY_DAYS_AHEAD = 60  # /readyz: policy tables must cover today and this many days
    READY_QUEUE_STALL_SECONDS = 300  # /readyz: the oldest waiting job may wait this long
    PROVIDER_CALL_RUN_SECONDS = 60  # the scheduler enqueues a run of the due provider calls this often
    ORDER_CHECK_AFTER_SECONDS = (60, 120, 300, 600, 1800)  # an open order is asked about after these waits
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
    LOG_FORMAT = "text"  # a person reads the run command's terminal
    SHOW_DEMO_PEOPLE = True  # the landing page lists the fictional demo people
    SMS_INBOX_VISIBLE = True  # nothing is really sent: a person reads the codes at /api/v1/sandbox/sms
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
    SANDBOX_CHANNELS = ()  # no channel is wired to a sandbox: CHANNELS names the real ones
    SESSION_COOKIE_SECURE = True
    ACCOUNT_SANDBOXES = False


SETTINGS = {"development": Development, "testing": Testing, "production": Production}


def load_settings(name: str | None = None, *, refuse: bool = True) -> dict:
    """The chosen settings as a dict: the class, then the settings file, then SBF_* variables; checked.

    Raises ``SettingsError`` naming every bad setting. ``refuse=False`` skips production's
    refusals (sandboxes, loopback URL) for the benchmark, which runs production on loopback.
    """
    from config.checks import check_production, check_settings
    from config.sources import SettingsError, apply_sources

    name = name or os.environ.get("SBF_SETTINGS", "development")
    if name not in SETTINGS:
        raise SettingsError([f"SBF_SETTINGS: {name!r} is not one of {', '.join(SETTINGS)}"])
    obj = SETTINGS[name]()
    values = apply_sources(copy.deepcopy({k: getattr(obj, k) for k in dir(obj) if k.isupper()}))
    complete_counter_settings(values)
    problems = []
    checks = [lambda: check_settings(values)]
    if name == "production" and refuse:
        checks.append(lambda: check_production(values, {k: getattr(Testing, k) for k in dir(Testing) if k.isupper()}))
    for check in checks:
        try:
            check()
        except SettingsError as error:  # one complaint per setting: the first says what to fix
            named = {p.split(":", 1)[0] for p in problems}
            problems += [p for p in error.problems if p.split(":", 1)[0] not in named]
    if problems:
        raise SettingsError(problems)
    return values


def complete_counter_settings(values: dict) -> None:
    """A configured bank counter takes its bank keys and voucher address from the shared settings."""
    entry = (values.get("PAYMENT_PROVIDERS") or {}).get("counter")
    if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[1], dict):
        kwargs = {"bank_keys": dict(values.get("COUNTER_BANK_KEYS") or {}),
                  "voucher_base_url": str(values.get("PUBLIC_BASE_URL", "")).rstrip("/") + "/api/v1/vouchers",
                  **entry[1]}
        values["PAYMENT_PROVIDERS"] = {**values["PAYMENT_PROVIDERS"], "counter": [entry[0], kwargs]}
