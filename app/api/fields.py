"""The API's marshmallow fields and validators, with their messages in Chinese and their bounds built in.

marshmallow's messages are English; a payer must read Chinese, field by field. Rather than
translating per schema, every field type and validator the API uses is declared once here with
Chinese ``default_error_messages`` (and validator messages), and every schema is built from these.

Bounds live here too, so no input reaches a column or ``date`` it cannot fit: ids within a
32-bit column, money as whole fen (a fraction is refused, never truncated), text without
control characters or broken Unicode and with a length cap, dates and months within 1900–2100.
"""
from __future__ import annotations

import datetime as dt
import numbers
import re

from marshmallow import Schema, fields, validate

ID_MAX = 2**31 - 1  # most id columns are 32-bit integers
BIG_ID_MAX = 2**63 - 1  # assessments, orders and payments have 64-bit ids
FEN_MAX = 10**12  # 100 亿元: more than any fee, far within a 64-bit column
TEXT_MAX = 200  # the default cap for a text field without a Length of its own
YEAR_MIN, YEAR_MAX = 1900, 2100
FIRST_DAY, LAST_DAY = dt.date(YEAR_MIN, 1, 1), dt.date(YEAR_MAX, 12, 31)
_FORBIDDEN_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates
_WHOLE_NUMBER = re.compile(r"^[+-]?\d{1,19}$")
_YEARS = r"(19\d\d|20\d\d|2100)"
MONTH_PATTERN = rf"^{_YEARS}-(0[1-9]|1[0-2])$"
PERIOD_PATTERN = rf"^{_YEARS}(-(0[1-9]|1[0-2]))?$"
TEXT_PATTERN = r"^[^\u0000-\u001f\u007f]*$"  # published: no control characters
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")

# marshmallow's base messages (every field), in Chinese
FIELD_MESSAGES = {"required": "此项为必填项", "null": "此项不能为空", "validator_failed": "填写的内容无效"}
SCHEMA_MESSAGES = {"type": "提交的内容格式不正确，应为JSON对象", "unknown": "不支持的字段"}


class InSchema(Schema):
    """What every request schema derives from: Chinese messages for a wrong type and unknown fields."""

    error_messages = SCHEMA_MESSAGES


class Str(fields.String):
    """Text: no control characters, no broken Unicode, at most ``max_length`` characters."""

    default_error_messages = {**FIELD_MESSAGES, "invalid": "应为文字", "invalid_utf8": "文字编码无效，应为UTF-8",
                              "control": "不能包含控制字符或无效字符", "too_long": "不能超过{max}个字符"}

    def __init__(self, *args, max_length: int = TEXT_MAX, **kwargs):
        super().__init__(*args, **kwargs)
        caps = [v.max for v in self.validators if isinstance(v, validate.Length) and v.max is not None]
        self.max_length = min([max_length, *caps])
        # the published schema states the cap and the characters refused
        self.metadata = {"maxLength": self.max_length, "pattern": TEXT_PATTERN, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _FORBIDDEN_TEXT.search(text):
            raise self.make_error("control")
        if len(text) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        return text


class Int(fields.Integer):
    """A whole number: ``1.5`` (or "1.5") is refused, not truncated; booleans are no numbers."""

    default_error_messages = {**FIELD_MESSAGES, "invalid": "应为整数", "too_large": "数值过大",
                              "fraction": "应为整数，不能有小数"}

    def _validated(self, value) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("fraction")
        if isinstance(value, str) and not _WHOLE_NUMBER.match(value.strip()):
            raise self.make_error("fraction" if re.match(r"^[+-]?\d+\.\d*$", value.strip()) else "invalid")
        if value is not None and not isinstance(value, (numbers.Number, str)):
            raise self.make_error("invalid")
        return super()._validated(value)


def Id(big: bool = False, **kwargs) -> Int:  # noqa: N802 - reads as a field type
    """An id of a row: 1 to the top of its column (32-bit, or 64-bit when ``big``)."""
    return Int(validate=Range(min=1, max=BIG_ID_MAX if big else ID_MAX), **kwargs)


def Fen(minimum: int = 0, **kwargs) -> Int:  # noqa: N802 - reads as a field type
    """Money in whole fen (分)."""
    kwargs.setdefault("validate", Range(min=minimum, max=FEN_MAX))
    return Int(**kwargs)


class Bool(fields.Boolean):
    default_error_messages = {**FIELD_MESSAGES, "invalid": "应为是或否（true/false）"}


class Date(fields.Date):
    """A calendar date YYYY-MM-DD between 1900-01-01 and 2100-12-31."""

    default_error_messages = {**FIELD_MESSAGES, "invalid": "应为日期，如2026-01-31",
                              "invalid_awareness": "应为日期，如2026-01-31", "format": "应为日期，如2026-01-31",
                              "out_of_range": "日期应在1900年至2100年之间"}

    def _deserialize(self, value, attr, data, **kwargs) -> dt.date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise self.make_error("out_of_range")
        return day


class Period(Str):
    """A fee period: a month YYYY-MM, a year YYYY, or (``months_only``) a month only; years 1900–2100."""

    default_error_messages = {"period": "应为年月（如2026-01）或年度（如2026），年份在1900至2100之间",
                              "month": "应为年月，如2026-01，年份在1900至2100之间"}

    def __init__(self, *args, months_only: bool = False, **kwargs):
        self.months_only = months_only
        kwargs.setdefault("metadata", {}).setdefault("pattern", MONTH_PATTERN if months_only else PERIOD_PATTERN)
        super().__init__(*args, max_length=7, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        month, year = _MONTH.match(text), _YEAR.match(text)
        ok = (month and YEAR_MIN <= int(month[1]) <= YEAR_MAX and 1 <= int(month[2]) <= 12) or (
            year and not self.months_only and YEAR_MIN <= int(year[1]) <= YEAR_MAX)
        if not ok:
            raise self.make_error("month" if self.months_only else "period")
        return text


class List(fields.List):
    default_error_messages = {**FIELD_MESSAGES, "invalid": "应为列表"}


class Nested(fields.Nested):
    default_error_messages = {**FIELD_MESSAGES, "type": "应为JSON对象"}


class Dict(fields.Dict):
    default_error_messages = {**FIELD_MESSAGES, "invalid": "应为JSON对象"}


# validators, with Chinese messages
class Length(validate.Length):
    message_min = "长度不能少于{min}"
    message_max = "长度不能超过{max}"
    message_all = "长度应在{min}至{max}之间"
    message_equal = "长度应为{equal}"


class Range(validate.Range):
    message_min = "不能小于{{min}}"
    message_max = "不能大于{{max}}"
    message_all = "应在{{min}}至{{max}}之间"

    def __init__(self, min=None, max=None, **kwargs):  # noqa: A002 - marshmallow's names
        super().__init__(min=min, max=max, **kwargs)
        # marshmallow words its messages with "greater than or equal to"; ours need no such words
        self.message_min = "不能小于{min}" if self.min_inclusive else "应大于{min}"
        self.message_max = "不能大于{max}" if self.max_inclusive else "应小于{max}"
        self.message_all = "应在{min}至{max}之间"


class OneOf(validate.OneOf):
    """Pass ``labels`` (Chinese names of the choices) where the choices are codes a payer cannot read."""

    default_message = "应为以下之一：{labels}"


class Regexp(validate.Regexp):
    default_message = "格式不正确"


FIELD_TYPES = (Str, Int, Bool, Date, Period, List, Nested, Dict)
VALIDATOR_TYPES = (Length, Range, OneOf, Regexp)
