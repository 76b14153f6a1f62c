"""Identity documents and credit codes: normalise, validate and mask what payers type in.

Every rejection is an ``InvalidInput`` with a stable English ``code`` and a Chinese
``message`` the payer can act on. Validation is deliberately lenient where the rules
are not published in a standard we can cite: refusing a real document stops a person
from paying their contributions, which costs more than accepting an odd-looking one.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable
from datetime import date

from stdnum.cn import ric as _ric
from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError as _StdnumValidationError

from app.domain.errors import InvalidInput

__all__ = [
    "IdType",
    "normalize_document",
    "normalize_uscc",
    "birth_date_of",
    "resident_id_check_char",
    "mask_id_number",
    "mask_name",
    "ACCOUNT_ID_TYPES",
]


class IdType(str, enum.Enum):
    """The identity documents a payer may register with; the value is what APIs carry."""

    RESIDENT_ID = "resident_id"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    CN_PASSPORT = "cn_passport"
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"
    FOREIGN_PASSPORT = "foreign_passport"
    FOREIGN_WORK_PERMIT = "foreign_work_permit"
    # the web e-tax bureau's list (seed 000) names these apart
    HK_MACAO_RESIDENCE_PERMIT = "hk_macao_residence_permit"
    TAIWAN_RESIDENCE_PERMIT = "taiwan_residence_permit"
    FOREIGN_WORK_PERMIT_A = "foreign_work_permit_a"
    FOREIGN_WORK_PERMIT_B = "foreign_work_permit_b"
    FOREIGN_WORK_PERMIT_C = "foreign_work_permit_c"

    @property
    def label(self) -> str:
        """The document's Chinese name, as printed on forms and receipts."""
        return _LABELS[self]


# Kept outside the class: a dict assigned in an Enum body would itself become a member.
_LABELS: dict[IdType, str] = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.CN_PASSPORT: "中华人民共和国护照",
    IdType.FOREIGN_PERMANENT_RESIDENCE: "外国人永久居留身份证",
    IdType.FOREIGN_PASSPORT: "外国护照",
    IdType.FOREIGN_WORK_PERMIT: "外国人工作许可证",
    IdType.HK_MACAO_RESIDENCE_PERMIT: "中华人民共和国港澳居民居住证",
    IdType.TAIWAN_RESIDENCE_PERMIT: "中华人民共和国台湾居民居住证",
    IdType.FOREIGN_WORK_PERMIT_A: "中华人民共和国外国人工作许可证（A类）",
    IdType.FOREIGN_WORK_PERMIT_B: "中华人民共和国外国人工作许可证（B类）",
    IdType.FOREIGN_WORK_PERMIT_C: "中华人民共和国外国人工作许可证（C类）",
}

# Province-level codes of GB/T 2260 that appear in resident ID numbers. 71 (Taiwan),
# 81 (Hong Kong) and 82 (Macao) are province-level codes too, but people from there
# hold no resident ID; their residence permits use 810000, 820000 and 830000 instead.
_RESIDENT_PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
    }
)

_HMT_REGIONS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}

# Nobody alive and paying contributions was born earlier; it also bounds typos like 0949.
_EARLIEST_BIRTH = date(1900, 1, 1)

_WHITESPACE = re.compile(r"\s+")

_MOD11_BODY = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_LEGACY_RESIDENT_ID = re.compile(r"[0-9]{15}", re.ASCII)
_DIGITS17 = re.compile(r"[0-9]{17}", re.ASCII)
# Current card: H/M + 8 digits; the booklet issued before 2012 had 10 digits.
_HK_MACAO = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})", re.ASCII)
# Current card: 8 digits; older booklets: 10 digits.
_TAIWAN = re.compile(r"(?:[0-9]{8}|[0-9]{10})", re.ASCII)
# Letter + 8 digits (E ordinary, G old ordinary, D diplomatic, S service, P public
# affairs); once a series ran out a second letter took one digit's place (EA1234567,
# and likewise DE/SE/PE for the electronic official passports).
_CN_PASSPORT = re.compile(r"(?:[EGDSP][0-9]{8}|[EDSP][A-Z][0-9]{7})", re.ASCII)
# 2017 card: ISO 3166 alpha-3 nationality, 4-digit receiving office, YYMMDD, 2 digits.
_FPR_2017 = re.compile(r"[A-Z]{3}[0-9]{12}", re.ASCII)
# 2023 card: "9", receiving province, numeric nationality, YYYYMMDD, sequence, check.
_FPR_2023 = re.compile(r"9[0-9]{16}[0-9X]", re.ASCII)
_FOREIGN_PASSPORT = re.compile(r"[A-Z0-9]{5,17}", re.ASCII)
_WORK_PERMIT = re.compile(r"[A-Z0-9]{9,18}", re.ASCII)

# GB 32100-2015 alphabet: digits and capitals without I, O, Z, S, V. Positions 1-2
# (registering authority, entity type) may be letters, 3-8 are the region digits.
_USCC_CHARS = "0-9A-HJ-NP-RTUW-Y"
_USCC = re.compile(rf"[{_USCC_CHARS}]{{2}}[0-9]{{6}}[{_USCC_CHARS}]{{10}}", re.ASCII)

_FORMAT_HINTS: dict[IdType, str] = {
    IdType.RESIDENT_ID: "居民身份证号码为17位数字加1位数字或字母X",
    IdType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证号码为17位数字加1位数字或字母X",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证号码为字母H或M加8位数字（旧证为10位数字）",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证号码为8位数字（旧证为10位数字）",
    IdType.CN_PASSPORT: "中国护照号码为9位，如E12345678或EA1234567",
    IdType.FOREIGN_PERMANENT_RESIDENCE: (
        "外国人永久居留身份证号码为18位（以9开头），旧版为3位字母加12位数字"
    ),
    IdType.FOREIGN_PASSPORT: "外国护照号码为5至17位字母或数字",
    IdType.FOREIGN_WORK_PERMIT: "外国人工作许可证号码为9至18位字母或数字",
    IdType.HK_MACAO_RESIDENCE_PERMIT: "港澳居民居住证号码为以810000或820000开头的18位号码",
    IdType.TAIWAN_RESIDENCE_PERMIT: "台湾居民居住证号码为以830000开头的18位号码",
    IdType.FOREIGN_WORK_PERMIT_A: "外国人工作许可证号码为9至18位字母或数字",
    IdType.FOREIGN_WORK_PERMIT_B: "外国人工作许可证号码为9至18位字母或数字",
    IdType.FOREIGN_WORK_PERMIT_C: "外国人工作许可证号码为9至18位字母或数字",
}


def _clean(raw: object) -> str:
    # NFKC turns full-width digits and letters from Chinese input methods into ASCII;
    # spaces anywhere are dropped because people copy numbers in groups.
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return _WHITESPACE.sub("", text).upper()


def _id_error(code: str, message: str, id_type: IdType) -> InvalidInput:
    return InvalidInput(code, message, field="id_number", id_type=id_type.value)


def _format_error(id_type: IdType) -> InvalidInput:
    return _id_error("id_number_format", f"证件号码格式不正确：{_FORMAT_HINTS[id_type]}", id_type)


def _parse_id_type(id_type: str | IdType) -> IdType:
    if isinstance(id_type, IdType):
        return id_type
    try:
        return IdType(str(id_type).strip().lower())
    except ValueError:
        raise InvalidInput("id_type_unknown", "不支持的证件类型", field="id_type") from None


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (0-9 or X) for a 17-digit body."""
    body = _clean(first17)
    if not _DIGITS17.fullmatch(body):
        raise InvalidInput(
            "id_number_format", "证件号码格式不正确：应为17位数字", field="id_number"
        )
    # stdnum expects the full number and ignores its last character.
    return _ric.calc_check_digit(body + "0")


def _embedded_birth_date(number: str) -> date | None:
    # Positions 7-14 hold YYYYMMDD in every GB 11643-shaped number we accept.
    try:
        return _ric.get_birth_date(number)
    except (_StdnumValidationError, ValueError):
        return None


def _check_mod11_number(
    number: str,
    id_type: IdType,
    region_ok: Callable[[str], bool],
    region_message: str,
    today: date,
) -> str:
    """Structure shared by GB 11643 numbers: region, birth date, then the check char.

    Region and birth date come before the check character because, when both are
    wrong, the specific part is what the payer needs to look at.
    """
    if not _MOD11_BODY.fullmatch(number):
        raise _format_error(id_type)
    if not region_ok(number[:6]):
        raise _id_error("id_region_invalid", region_message, id_type)
    born = _embedded_birth_date(number)
    if born is None or born < _EARLIEST_BIRTH or born > today:
        raise _id_error("id_birth_date_invalid", "证件号码中的出生日期无效", id_type)
    if number[-1] != resident_id_check_char(number[:17]):
        raise _id_error("id_check_digit_invalid", "校验码错误，请核对证件号码", id_type)
    return number


def _resident_region_ok(region: str) -> bool:
    # Only the province prefix is checked: county codes are merged and renamed over
    # the years while the numbers issued under them stay valid for life, and the check
    # character already catches typos in the other four digits.
    return region[:2] in _RESIDENT_PROVINCES


def _resident_id(number: str, today: date) -> str:
    id_type = IdType.RESIDENT_ID
    if len(number) == 15:
        # Legacy GB 11643-1989 number: 6 region + YYMMDD (all 19xx) + 3 sequence.
        if not _LEGACY_RESIDENT_ID.fullmatch(number):
            raise _format_error(id_type)
        body = number[:6] + "19" + number[6:]
        number = body + resident_id_check_char(body)
    elif len(number) != 18:
        raise _id_error("id_number_length", "居民身份证号码应为18位（旧版为15位）", id_type)
    return _check_mod11_number(
        number, id_type, _resident_region_ok, "证件号码中的地区码无效", today
    )


def _hmt_residence_permit(number: str, today: date, id_type: IdType = IdType.HMT_RESIDENCE_PERMIT) -> str:
    regions = {IdType.HK_MACAO_RESIDENCE_PERMIT: ("810000", "820000"),
               IdType.TAIWAN_RESIDENCE_PERMIT: ("830000",)}.get(id_type, tuple(_HMT_REGIONS))
    if len(number) != 18:
        raise _id_error("id_number_length", f"{id_type.label}号码应为18位", id_type)
    return _check_mod11_number(
        number,
        id_type,
        lambda region: region in regions,
        f"证件号码中的地区码无效：{id_type.label}号码应以{'、'.join(regions)}开头",
        today,
    )


def _mmdd_possible(yymmdd: str) -> bool:
    # The 2017 card carries a two-digit year, so accept the date if it exists in
    # either century (29 February of "00" exists in 2000).
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    for century in (1900, 2000):
        try:
            date(century + yy, mm, dd)
            return True
        except ValueError:
            continue
    return False


def _foreign_permanent_residence(number: str, today: date) -> str:
    id_type = IdType.FOREIGN_PERMANENT_RESIDENCE
    if len(number) == 18:
        if not _FPR_2023.fullmatch(number):
            raise _format_error(id_type)
        return _check_mod11_number(
            number,
            id_type,
            lambda region: region[1:3] in _RESIDENT_PROVINCES,
            "证件号码中的受理地代码无效",
            today,
        )
    if _FPR_2017.fullmatch(number):
        # Only the month and day are checked: the layout of the 2017 number is not in
        # a published standard we can cite, so the rest is left alone.
        if not _mmdd_possible(number[7:13]):
            raise _id_error("id_birth_date_invalid", "证件号码中的出生日期无效", id_type)
        return number
    raise _format_error(id_type)


_SIMPLE_FORMATS: dict[IdType, re.Pattern[str]] = {
    IdType.HK_MACAO_PERMIT: _HK_MACAO,
    IdType.TAIWAN_PERMIT: _TAIWAN,
    IdType.CN_PASSPORT: _CN_PASSPORT,
    IdType.FOREIGN_PASSPORT: _FOREIGN_PASSPORT,
    IdType.FOREIGN_WORK_PERMIT: _WORK_PERMIT,
    IdType.FOREIGN_WORK_PERMIT_A: _WORK_PERMIT,
    IdType.FOREIGN_WORK_PERMIT_B: _WORK_PERMIT,
    IdType.FOREIGN_WORK_PERMIT_C: _WORK_PERMIT,
}

# The documents a natural person registers an account with, in the order of seed 000's list.
ACCOUNT_ID_TYPES = (IdType.RESIDENT_ID, IdType.HK_MACAO_PERMIT, IdType.TAIWAN_PERMIT, IdType.CN_PASSPORT,
                    IdType.FOREIGN_PERMANENT_RESIDENCE, IdType.HK_MACAO_RESIDENCE_PERMIT,
                    IdType.TAIWAN_RESIDENCE_PERMIT, IdType.FOREIGN_PASSPORT, IdType.FOREIGN_WORK_PERMIT_A,
                    IdType.FOREIGN_WORK_PERMIT_B, IdType.FOREIGN_WORK_PERMIT_C)


def normalize_document(id_type: str | IdType, number: str, *, today: date) -> str:
    """Validate a document number and return its canonical form (no spaces, upper case).

    A 15-digit legacy resident ID comes back as its 18-digit equivalent. ``today``
    bounds birth dates: the caller's clock gives it (never the machine's date).
    """
    kind = _parse_id_type(id_type)
    cleaned = _clean(number)
    if not cleaned:
        raise _id_error("id_number_required", "请输入证件号码", kind)
    if kind is IdType.RESIDENT_ID:
        return _resident_id(cleaned, today)
    if kind in (IdType.HMT_RESIDENCE_PERMIT, IdType.HK_MACAO_RESIDENCE_PERMIT, IdType.TAIWAN_RESIDENCE_PERMIT):
        return _hmt_residence_permit(cleaned, today, kind)
    if kind is IdType.FOREIGN_PERMANENT_RESIDENCE:
        return _foreign_permanent_residence(cleaned, today)
    if not _SIMPLE_FORMATS[kind].fullmatch(cleaned):
        raise _format_error(kind)
    return cleaned


def birth_date_of(id_type: str | IdType, number: str, *, today: date) -> date | None:
    """The birth date a valid number encodes, or None when it does not encode one.

    Raises ``InvalidInput`` like ``normalize_document`` when the number is invalid.
    The 2017 permanent residence card gives None: its two-digit year cannot tell 1920
    from 2020, and a guessed century would corrupt age-based rules such as retirement.
    """
    kind = _parse_id_type(id_type)
    number = normalize_document(kind, number, today=today)
    if kind in (IdType.RESIDENT_ID, IdType.HMT_RESIDENCE_PERMIT, IdType.HK_MACAO_RESIDENCE_PERMIT,
                IdType.TAIWAN_RESIDENCE_PERMIT) or (
        kind is IdType.FOREIGN_PERMANENT_RESIDENCE and len(number) == 18
    ):
        return _embedded_birth_date(number)
    return None


def normalize_uscc(code: str) -> str:
    """Validate a 统一社会信用代码 (GB 32100-2015) and return it without spaces, upper case."""
    cleaned = _clean(code)
    if not cleaned:
        raise InvalidInput("uscc_required", "请输入统一社会信用代码", field="uscc")
    if len(cleaned) != 18:
        raise InvalidInput("uscc_length", "统一社会信用代码应为18位", field="uscc")
    if not _USCC.fullmatch(cleaned):
        raise InvalidInput(
            "uscc_format",
            "统一社会信用代码格式不正确：应为数字和大写字母（不含I、O、Z、S、V），第3至8位为数字",
            field="uscc",
        )
    # stdnum's own validate() insists the first two characters are digits, which the
    # standard does not (registering authorities A, N, Y exist), so only its check
    # character arithmetic is used here.
    if cleaned[-1] != _uscc.calc_check_digit(cleaned):
        raise InvalidInput(
            "uscc_check_digit_invalid", "统一社会信用代码校验码错误，请核对", field="uscc"
        )
    return cleaned


def mask_id_number(number: str) -> str:
    """Hide the middle of a document number: 3702**********1234.

    Keeps the first 4 and last 4 characters; numbers of 8 or fewer keep only the last
    2, and of 2 or fewer keep nothing, so no mask ever shows more than 8 characters.
    """
    text = (number or "").strip()
    n = len(text)
    if n <= 2:
        return "*" * n
    if n <= 8:
        return "*" * (n - 2) + text[-2:]
    return text[:4] + "*" * (n - 8) + text[-4:]


def _is_latin_name(name: str) -> bool:
    return any(ch.isspace() or ("A" <= ch <= "Z") or ("a" <= ch <= "z") for ch in name)


def mask_name(name: str) -> str:
    """Hide a person's name for screens and receipts.

    Chinese names keep the first and (from three characters on) the last character:
    张 -> *, 张三 -> 张*, 张小三 -> 张*三, 欧阳娜娜 -> 欧**娜. Latin names keep the first
    letter of each word: John Smith -> J*** S***.
    """
    text = (name or "").strip()
    if not text:
        return ""
    if _is_latin_name(text):
        return " ".join(word[0] + "***" for word in text.split())
    n = len(text)
    if n == 1:
        return "*"
    if n == 2:
        return text[0] + "*"
    return text[0] + "*" * (n - 2) + text[-1]
