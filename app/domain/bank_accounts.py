"""Bank account filing (存款账户账号备案): validate, normalise and mask what a payer files.

Bank codes are the 3-digit bank category codes (行别代码) of the People's Bank of China's
payment system (CNAPS, 《支付系统行号》: the first three digits of every 12-digit bank
number). No maintained library on PyPI carries them, so the few a payer picks from are here.
A bank card number (银行卡, 16–19 digits) carries a Luhn check digit (ISO/IEC 7812-1, which
UnionPay cards follow); a passbook or settlement account number (存折/结算账户) has no
published check digit, so only its shape is checked. Luhn comes from python-stdnum.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from stdnum import luhn

from app.domain.errors import Conflict, InvalidInput

# 行别代码 (CNAPS bank category codes), source: 中国人民银行 支付系统参与者行号编码规则
BANKS = {
    "102": "中国工商银行", "103": "中国农业银行", "104": "中国银行", "105": "中国建设银行",
    "301": "交通银行", "302": "中信银行", "303": "中国光大银行", "304": "华夏银行", "305": "中国民生银行",
    "306": "广发银行", "307": "平安银行", "308": "招商银行", "309": "兴业银行", "310": "上海浦东发展银行",
    "313": "城市商业银行", "314": "农村商业银行", "402": "农村信用合作社", "403": "中国邮政储蓄银行",
}
CARD, PASSBOOK = "card", "passbook"
ACCOUNT_KINDS = {CARD: "银行卡", PASSBOOK: "存折/结算账户"}
_CARD = re.compile(r"\d{16,19}")
_PASSBOOK = re.compile(r"\d{8,30}")


def bank_account_exists() -> Conflict:
    """The account is already on file for the person (found first, or filed at the same moment)."""
    return Conflict("bank_account_exists", "该银行账户已备案，无需重复备案", field="account_no")


@dataclass
class BankAccount:
    """A filed account. The holder is the insured person unless ``holder_is_other`` (人卡分离)."""

    person_id: int
    bank_code: str
    account_kind: str
    account_no: str
    holder_name: str
    holder_is_other: bool = False
    holder_id_type: str | None = None
    holder_id_number: str | None = None
    payer_account_id: int | None = None  # the login account that filed it, once accounts exist
    created_at: datetime | None = None
    removed_at: datetime | None = None
    id: int | None = None

    @property
    def bank_name(self) -> str:
        return BANKS.get(self.bank_code, self.bank_code)


def normalize_account_no(account_kind: str, number: str) -> str:
    """Digits only (spaces and full-width digits allowed in input); check the shape and the card's Luhn."""
    if account_kind not in ACCOUNT_KINDS:
        raise InvalidInput("account_kind_invalid", "请选择账户类型（银行卡或存折/结算账户）", field="account_kind")
    cleaned = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", number or ""))
    if not cleaned:
        raise InvalidInput("account_no_required", "请输入银行账号", field="account_no")
    if account_kind == CARD:
        if not _CARD.fullmatch(cleaned):
            raise InvalidInput("account_no_invalid", "银行卡号应为16至19位数字，请核对", field="account_no")
        if not luhn.is_valid(cleaned):
            raise InvalidInput("account_no_invalid", "银行卡号校验未通过，请核对后重新输入", field="account_no")
    elif not _PASSBOOK.fullmatch(cleaned):
        raise InvalidInput("account_no_invalid", "银行账号应为8至30位数字，请核对", field="account_no")
    return cleaned


def check_bank_code(bank_code: str) -> str:
    code = (bank_code or "").strip()
    if code not in BANKS:
        raise InvalidInput("bank_code_invalid", "请选择开户银行", field="bank_code")
    return code


def check_holder_name(name: str) -> str:
    cleaned = unicodedata.normalize("NFKC", name or "").strip()
    if not cleaned or len(cleaned) > 60 or "|" in cleaned:
        raise InvalidInput("holder_name_invalid", "请输入正确的账户户名", field="holder_name")
    return cleaned


def mask_account_no(number: str) -> str:
    """6222 **** **** 1234: the first four and last four digits, as banks print them."""
    if len(number) <= 8:
        return "*" * (len(number) - 4) + number[-4:]
    return f"{number[:4]} **** **** {number[-4:]}"
