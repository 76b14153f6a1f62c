"""A natural person's account (tax app and web e-tax bureau): the rules that need no I/O.

What a registration must carry (seeds 000 and 004: the agreement, name, document, gender,
nationality, username, password, mobile), how usernames and phones look, the SMS code
purposes, the privacy consent's version, and when a sign-in session is over (idle and
absolute timeouts). Password strength is judged by an estimator behind a port, not here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.documents import ACCOUNT_ID_TYPES, normalize_document
from app.domain.errors import InvalidInput

GENDERS = {"male": "男", "female": "女"}
# ISO 3166-1 alpha-3; the forms offer the common ones, any valid-looking code is accepted
NATIONALITIES = {"CHN": "中国", "HKG": "中国香港", "MAC": "中国澳门", "TWN": "中国台湾", "USA": "美国",
                 "GBR": "英国", "JPN": "日本", "KOR": "韩国", "DEU": "德国", "FRA": "法国", "RUS": "俄罗斯",
                 "NPL": "尼泊尔"}
_NATIONALITY = re.compile(r"[A-Z]{3}", re.ASCII)
# letters first, then letters, digits or underscore: never all digits, so it is never a phone number
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,19}", re.ASCII)
_PHONE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
PASSWORD_MIN, PASSWORD_MAX = 8, 64
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0..4: 3 is "safely unguessable: moderate protection from offline attack"

# what an SMS code is for; a code sent for one purpose is never good for another
SMS_REGISTER, SMS_LOGIN, SMS_RESET_PASSWORD = "register", "login", "reset_password"
SMS_CHANGE_PASSWORD, SMS_CHANGE_PHONE, SMS_RECOVER_PHONE = "change_password", "change_phone", "recover_phone"
SMS_PURPOSES = {SMS_REGISTER: "注册", SMS_LOGIN: "登录", SMS_RESET_PASSWORD: "找回密码",
                SMS_CHANGE_PASSWORD: "修改密码", SMS_CHANGE_PHONE: "修改手机号码", SMS_RECOVER_PHONE: "找回手机号码"}

# how a sign-in starts (seed 000: 用户名登录, 手机号登录, 证件登录)
LOGIN_BY_USERNAME, LOGIN_BY_PHONE, LOGIN_BY_DOCUMENT = "username", "phone", "document"
LOGIN_KINDS = (LOGIN_BY_USERNAME, LOGIN_BY_PHONE, LOGIN_BY_DOCUMENT)

# 个人信息保护告知同意书 (seed 001): agreed on first login, its version recorded
PRIVACY_CONSENT = "privacy"
PRIVACY_CONSENT_VERSION = "2026.1"
CONSENT_TITLES = {PRIVACY_CONSENT: "个人信息保护告知同意书"}

# how the registrant was found to be who they say (seed 000's 注意事项)
VERIFIED_BY_PHONE_ON_RECORD = "phone_on_record"  # the phone matches the one taken at the service hall
VERIFIED_BY_IDENTITY_CHECK = "identity_check"  # 实人认证 passed
VERIFIED_NOT_KNOWN = "identity_check_unknown_person"  # 实人认证 passed; not yet in the bureaus' registry


def normalize_username(raw: str) -> str:
    """Usernames compare without case: ``ZhangWei`` and ``zhangwei`` are the same account."""
    text = unicodedata.normalize("NFKC", (raw or "").strip())
    if not _USERNAME.fullmatch(text):
        raise InvalidInput("username_format", "用户名为4至20位字母、数字或下划线，以字母开头", field="username")
    return text.lower()


def normalize_phone(raw: str, field: str = "phone") -> str:
    text = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    if text.startswith("+86"):
        text = text[3:]
    if not _PHONE.fullmatch(text):
        raise InvalidInput("phone_format", "请输入11位中国大陆手机号码", field=field)
    return text


def mask_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone else ""


def check_password_shape(password: str) -> None:
    """Length only; strength is the estimator's (``PasswordStrength``) word."""
    if not password or len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
        raise InvalidInput("password_length", f"密码长度应为{PASSWORD_MIN}至{PASSWORD_MAX}位", field="password")


@dataclass(frozen=True)
class RegistrationForm:
    """What a registrant typed in, validated (documents normalised, username lower-cased)."""

    name: str
    id_type: str
    id_number: str
    gender: str
    nationality: str
    username: str
    phone: str

    @classmethod
    def parse(cls, data: dict, today) -> "RegistrationForm":
        if not data.get("agreed"):
            raise InvalidInput("agreement_required", "请阅读并勾选用户注册协议", field="agreed")
        name = unicodedata.normalize("NFKC", (data.get("name") or "")).strip()
        if not name or len(name) > 60:
            raise InvalidInput("name_required", "请输入证件上的姓名", field="name")
        id_type = (data.get("id_type") or "").strip()
        if id_type not in {t.value for t in ACCOUNT_ID_TYPES}:
            raise InvalidInput("id_type_unknown", "请选择证件类型", field="id_type")
        id_number = normalize_document(id_type, data.get("id_number") or "", today=today)
        gender = data.get("gender") or ""
        if gender not in GENDERS:
            raise InvalidInput("gender_required", "请选择性别", field="gender")
        nationality = (data.get("nationality") or "").strip().upper()
        if not _NATIONALITY.fullmatch(nationality):
            raise InvalidInput("nationality_required", "请选择国籍（地区）", field="nationality")
        return cls(name, id_type, id_number, gender, nationality, normalize_username(data.get("username") or ""),
                   normalize_phone(data.get("phone") or ""))


@dataclass(frozen=True)
class SessionPolicy:
    """A sign-in session ends after ``idle`` without use, and after ``absolute`` whatever happens."""

    idle: timedelta
    absolute: timedelta

    def alive(self, started_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        return now - last_seen_at < self.idle and now - started_at < self.absolute


@dataclass
class Account:
    """A registered natural person. ``person_id`` is set once the bureaus' registry knows them."""

    username: str
    name: str
    id_type: str
    id_number: str
    gender: str
    nationality: str
    phone: str | None
    password_hash: str
    verified_by: str
    created_at: datetime
    person_id: int | None = None
    consent_version: str | None = None
    status: str = "active"
    id: int | None = None

    @property
    def needs_consent(self) -> bool:
        return self.consent_version != PRIVACY_CONSENT_VERSION
