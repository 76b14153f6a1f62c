"""Amounts in Chinese financial capitals (中文大写金额)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.capitals import MAX_FEN, fen_to_chinese_capitals

_DIGIT_VALUES = {ch: i for i, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def _read_back(text: str) -> int:
    """An independent reader of the capitals, to check the writer against: text -> fen."""
    yuan_text, _, cents_text = text.partition("元")
    if not _:  # only 角 and/or 分
        yuan_text, cents_text = "", text
    total = section = digit = 0
    for ch in yuan_text:
        if ch in _DIGIT_VALUES:
            digit = _DIGIT_VALUES[ch]
        elif ch in _SMALL_UNITS:
            section += digit * _SMALL_UNITS[ch]
            digit = 0
        elif ch == "万":
            section = (section + digit) * 10**4
            digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 10**8
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text!r}")
    fen = (total + section + digit) * 100
    match = re.fullmatch(r"零?(?:(.)角)?零?(?:(.)分)?(整)?", cents_text)
    assert match, f"unreadable cents in {text!r}"
    jiao, fen_digit, _whole = match.groups()
    return fen + 10 * _DIGIT_VALUES.get(jiao or "零") + _DIGIT_VALUES.get(fen_digit or "零")


@pytest.mark.parametrize(
    ("fen", "capitals"),
    [
        (0, "零元整"),
        (1, "壹分"),
        (10, "壹角"),
        (56, "伍角陆分"),
        (100, "壹元整"),
        (105, "壹元零伍分"),
        (1000, "壹拾元整"),
        (1600, "壹拾陆元整"),
        (20001, "贰佰元零壹分"),
        (32504, "叁佰贰拾伍元零肆分"),
        (100010, "壹仟元零壹角"),
        (123456, "壹仟贰佰叁拾肆元伍角陆分"),
        (168032, "壹仟陆佰捌拾元零叁角贰分"),
        (100100, "壹仟零壹元整"),
        (101000, "壹仟零壹拾元整"),
        (1000000, "壹万元整"),
        (1640902, "壹万陆仟肆佰零玖元零贰分"),
        (10000001, "壹拾万元零壹分"),
        (10700053, "壹拾万柒仟元零伍角叁分"),
        (10001000, "壹拾万零壹拾元整"),
        (100000000, "壹佰万元整"),
        (10000000000, "壹亿元整"),
        (10000000100, "壹亿零壹元整"),
        (10001000000, "壹亿零壹万元整"),
        (11000000000, "壹亿壹仟万元整"),
        (10100000000, "壹亿零壹佰万元整"),
        (1000000000000, "壹佰亿元整"),
        (100000000000000, "壹万亿元整"),
        (100010000000000, "壹万零壹亿元整"),
        (100000000010000, "壹万亿零壹佰元整"),
    ],
)
def test_amounts_are_written_in_financial_capitals(fen, capitals):
    assert fen_to_chinese_capitals(fen) == capitals


def test_ten_is_written_with_its_digit_wherever_it_starts_the_amount():
    assert fen_to_chinese_capitals(1500) == "壹拾伍元整"
    assert fen_to_chinese_capitals(150000000) == "壹佰伍拾万元整"


def test_largest_amount_is_accepted_and_one_more_fen_is_refused():
    assert fen_to_chinese_capitals(MAX_FEN).endswith("玖元玖角玖分")
    with pytest.raises(ValueError):
        fen_to_chinese_capitals(MAX_FEN + 1)


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        fen_to_chinese_capitals(-1)


@pytest.mark.parametrize("not_fen", [1.0, "100", True, None])
def test_only_int_fen_is_accepted(not_fen):
    with pytest.raises(TypeError):
        fen_to_chinese_capitals(not_fen)


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_capitals_read_back_to_the_same_amount(fen):
    assert _read_back(fen_to_chinese_capitals(fen)) == fen


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_capitals_follow_the_zero_and_whole_rules(fen):
    text = fen_to_chinese_capitals(fen)
    assert "零零" not in text
    assert not re.search(r"零[拾佰仟万亿元角分]", text), text
    assert text.endswith("整") == (fen % 100 == 0)
    assert not text.startswith(("零", "拾"))
    if fen >= 100 and fen % 100 and fen % 100 < 10:  # 角 is 0, 分 is not
        assert "元零" in text


@given(st.integers(min_value=1, max_value=10**16 - 1))
def test_every_ten_carries_its_digit(yuan):
    text = fen_to_chinese_capitals(yuan * 100)
    assert not re.search(r"(?:^|[^零壹贰叁肆伍陆柒捌玖])拾", text), text
