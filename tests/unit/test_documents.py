"""Identity document and credit code rules: what is accepted, what is refused, and why."""
from __future__ import annotations

import string
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from app.domain.documents import (
    IdType,
    birth_date_of,
    mask_id_number,
    mask_name,
    normalize_document,
    normalize_uscc,
    resident_id_check_char,
)
from app.domain.errors import InvalidInput

TODAY = date(2025, 6, 30)

PROVINCES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
    "63", "64", "65",
]
CHECK_CHARS = "0123456789X"


def with_check(body17: str) -> str:
    return body17 + resident_id_check_char(body17)


def wrong_check(body17: str) -> str:
    right = resident_id_check_char(body17)
    return body17 + ("0" if right != "0" else "1")


def refusal(id_type, number) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        normalize_document(id_type, number, today=TODAY)
    return caught.value


def assert_chinese(message: str) -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


# --- IdType -----------------------------------------------------------------------


def test_id_types_have_exactly_the_agreed_values_and_chinese_labels():
    assert {t.name: (t.value, t.label) for t in IdType} == {
        "RESIDENT_ID": ("resident_id", "居民身份证"),
        "HMT_RESIDENCE_PERMIT": ("hmt_residence_permit", "港澳台居民居住证"),
        "HK_MACAO_PERMIT": ("hk_macao_permit", "港澳居民来往内地通行证"),
        "TAIWAN_PERMIT": ("taiwan_permit", "台湾居民来往大陆通行证"),
        "CN_PASSPORT": ("cn_passport", "中华人民共和国护照"),
        "FOREIGN_PERMANENT_RESIDENCE": ("foreign_permanent_residence", "外国人永久居留身份证"),
        "FOREIGN_PASSPORT": ("foreign_passport", "外国护照"),
        "FOREIGN_WORK_PERMIT": ("foreign_work_permit", "外国人工作许可证"),
        "HK_MACAO_RESIDENCE_PERMIT": ("hk_macao_residence_permit", "中华人民共和国港澳居民居住证"),
        "TAIWAN_RESIDENCE_PERMIT": ("taiwan_residence_permit", "中华人民共和国台湾居民居住证"),
        "FOREIGN_WORK_PERMIT_A": ("foreign_work_permit_a", "中华人民共和国外国人工作许可证（A类）"),
        "FOREIGN_WORK_PERMIT_B": ("foreign_work_permit_b", "中华人民共和国外国人工作许可证（B类）"),
        "FOREIGN_WORK_PERMIT_C": ("foreign_work_permit_c", "中华人民共和国外国人工作许可证（C类）"),
    }


def test_id_type_compares_equal_to_its_string_value():
    assert IdType.RESIDENT_ID == "resident_id"


def test_accepts_the_id_type_as_enum_or_as_string():
    number = "11010519491231002X"
    assert normalize_document(IdType.RESIDENT_ID, number, today=TODAY) == number
    assert normalize_document("resident_id", number, today=TODAY) == number


def test_refuses_an_unknown_id_type_on_the_id_type_field():
    error = refusal("driving_licence", "11010519491231002X")
    assert error.code == "id_type_unknown"
    assert error.field == "id_type"
    assert_chinese(error.message)


def test_refuses_a_missing_id_type():
    assert refusal(None, "11010519491231002X").code == "id_type_unknown"


@pytest.mark.parametrize("id_type", list(IdType))
@pytest.mark.parametrize("number", ["", "   ", None])
def test_requires_a_number_for_every_id_type(id_type, number):
    error = refusal(id_type, number)
    assert error.code == "id_number_required"
    assert error.field == "id_number"
    assert error.message == "请输入证件号码"


# --- Resident ID --------------------------------------------------------------------


def test_accepts_the_standards_own_resident_id_example():
    assert normalize_document("resident_id", "11010519491231002X", today=TODAY) == (
        "11010519491231002X"
    )


def test_accepts_a_lower_case_x_and_returns_it_upper_case():
    assert normalize_document("resident_id", "11010519491231002x", today=TODAY) == (
        "11010519491231002X"
    )


def test_strips_spaces_and_full_width_characters_from_a_resident_id():
    typed = " 110105 19491231 002ｘ\u3000"
    assert normalize_document("resident_id", typed, today=TODAY) == "11010519491231002X"


def test_converts_a_15_digit_legacy_resident_id_to_18_digits():
    assert normalize_document("resident_id", "110105491231002", today=TODAY) == (
        "11010519491231002X"
    )


def test_refuses_resident_id_with_wrong_check_digit():
    error = refusal("resident_id", "110105194912310021")
    assert error.code == "id_check_digit_invalid"
    assert error.field == "id_number"
    assert_chinese(error.message)


def test_refuses_resident_id_with_impossible_birth_date_even_when_check_char_fits():
    number = with_check("11010519490231002")
    error = refusal("resident_id", number)
    assert error.code == "id_birth_date_invalid"
    assert_chinese(error.message)


def test_refuses_resident_id_born_after_today():
    tomorrow = TODAY + timedelta(days=1)
    number = with_check("110105" + tomorrow.strftime("%Y%m%d") + "002")
    assert refusal("resident_id", number).code == "id_birth_date_invalid"


def test_accepts_resident_id_of_a_person_born_today():
    number = with_check("110105" + TODAY.strftime("%Y%m%d") + "002")
    assert normalize_document("resident_id", number, today=TODAY) == number


def test_refuses_resident_id_born_before_1900():
    assert refusal("resident_id", with_check("11010518991231002")).code == "id_birth_date_invalid"


def test_refuses_a_legacy_resident_id_with_impossible_birth_date():
    assert refusal("resident_id", "110105490231002").code == "id_birth_date_invalid"


@pytest.mark.parametrize("province", ["99", "00", "10", "71", "81", "82", "83"])
def test_refuses_resident_id_with_a_province_code_not_used_in_resident_ids(province):
    error = refusal("resident_id", with_check(province + "010519491231002"))
    assert error.code == "id_region_invalid"
    assert_chinese(error.message)


def test_refuses_a_legacy_resident_id_with_region_99():
    assert refusal("resident_id", "990105491231002").code == "id_region_invalid"


@pytest.mark.parametrize("number", ["1101051949123100", "1101051949123100200", "1234"])
def test_refuses_resident_id_of_the_wrong_length(number):
    error = refusal("resident_id", number)
    assert error.code == "id_number_length"
    assert "18" in error.message


@pytest.mark.parametrize(
    "number", ["1101051949123100XX", "11010519491231002A", "A10105491231002", "11010519491231-02X"]
)
def test_refuses_resident_id_with_letters_in_the_wrong_place(number):
    assert refusal("resident_id", number).code == "id_number_format"


def test_reports_the_birth_date_before_the_check_char_when_both_are_wrong():
    assert refusal("resident_id", wrong_check("11010519490231002")).code == "id_birth_date_invalid"


def test_check_char_of_the_standard_example_is_x():
    assert resident_id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize("body", ["1101051949123100", "1101051949123100X", "abc"])
def test_check_char_refuses_anything_but_17_digits(body):
    with pytest.raises(InvalidInput) as caught:
        resident_id_check_char(body)
    assert caught.value.code == "id_number_format"


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
resident_bodies = st.builds(
    lambda province, rest, born, seq: province + rest + born.strftime("%Y%m%d") + seq,
    st.sampled_from(PROVINCES),
    st.text(alphabet=string.digits, min_size=4, max_size=4),
    birth_dates,
    st.text(alphabet=string.digits, min_size=3, max_size=3),
)


@given(resident_bodies)
def test_any_real_body_with_its_computed_check_char_validates(body):
    number = with_check(body)
    assert normalize_document("resident_id", number, today=TODAY) == number


@given(resident_bodies, st.sampled_from(CHECK_CHARS))
def test_any_other_check_char_is_refused_as_a_check_digit_error(body, char):
    assume(char != resident_id_check_char(body))
    assert refusal("resident_id", body + char).code == "id_check_digit_invalid"


# --- 港澳台居民居住证 -----------------------------------------------------------------


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_accepts_residence_permits_of_hong_kong_macao_and_taiwan(region):
    number = with_check(region + "19900101001")
    assert normalize_document("hmt_residence_permit", number, today=TODAY) == number


@pytest.mark.parametrize("region", ["110105", "810001", "710000", "840000"])
def test_refuses_residence_permit_outside_810000_820000_830000(region):
    error = refusal("hmt_residence_permit", with_check(region + "19900101001"))
    assert error.code == "id_region_invalid"


def test_refuses_residence_permit_with_wrong_check_digit():
    assert refusal("hmt_residence_permit", wrong_check("81000019900101001")).code == (
        "id_check_digit_invalid"
    )


def test_refuses_residence_permit_with_impossible_birth_date():
    error = refusal("hmt_residence_permit", with_check("82000019900230001"))
    assert error.code == "id_birth_date_invalid"


def test_refuses_residence_permit_that_is_not_18_characters():
    assert refusal("hmt_residence_permit", "810000900101001").code == "id_number_length"


# --- 港澳居民来往内地通行证 -------------------------------------------------------------


@pytest.mark.parametrize("number", ["H12345678", "M12345678", "h1234567890", "M 1234 5678"])
def test_accepts_hong_kong_and_macao_permits(number):
    assert normalize_document("hk_macao_permit", number, today=TODAY) == number.replace(
        " ", ""
    ).upper()


@pytest.mark.parametrize(
    "number", ["C12345678", "H1234567", "H123456789", "H12345678901", "12345678", "HM1234567"]
)
def test_refuses_malformed_hong_kong_and_macao_permits(number):
    error = refusal("hk_macao_permit", number)
    assert error.code == "id_number_format"
    assert_chinese(error.message)


# --- 台湾居民来往大陆通行证 -------------------------------------------------------------


@pytest.mark.parametrize("number", ["12345678", "1234567890"])
def test_accepts_taiwan_permits_of_8_or_10_digits(number):
    assert normalize_document("taiwan_permit", number, today=TODAY) == number


@pytest.mark.parametrize("number", ["1234567", "123456789", "T1234567", "12345678901"])
def test_refuses_malformed_taiwan_permits(number):
    assert refusal("taiwan_permit", number).code == "id_number_format"


# --- 中国护照 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["E12345678", "EA1234567", "G12345678", "D12345678", "S12345678", "P12345678", "SE1234567"],
)
def test_accepts_chinese_passports(number):
    assert normalize_document("cn_passport", number, today=TODAY) == number


def test_upper_cases_a_chinese_passport_number():
    assert normalize_document("cn_passport", "ea1234567", today=TODAY) == "EA1234567"


@pytest.mark.parametrize(
    "number", ["E1234567", "E123456789", "A12345678", "GA1234567", "EA12345678", "E1234567X"]
)
def test_refuses_malformed_chinese_passports(number):
    assert refusal("cn_passport", number).code == "id_number_format"


# --- 外国人永久居留身份证 -------------------------------------------------------------


def test_accepts_a_2023_permanent_residence_card_with_its_check_char():
    number = with_check("91184019800101001")
    assert normalize_document("foreign_permanent_residence", number, today=TODAY) == number


def test_accepts_a_2017_permanent_residence_card():
    assert normalize_document("foreign_permanent_residence", "usa110079010123", today=TODAY) == (
        "USA110079010123"
    )


def test_accepts_a_2017_card_born_on_29_february_2000():
    number = "GBR310000022901"
    assert normalize_document("foreign_permanent_residence", number, today=TODAY) == number


def test_refuses_a_2023_permanent_residence_card_with_wrong_check_digit():
    error = refusal("foreign_permanent_residence", wrong_check("91184019800101001"))
    assert error.code == "id_check_digit_invalid"


def test_refuses_a_2023_permanent_residence_card_with_impossible_birth_date():
    error = refusal("foreign_permanent_residence", with_check("91184019800230001"))
    assert error.code == "id_birth_date_invalid"


def test_refuses_a_2023_permanent_residence_card_from_an_unknown_province():
    error = refusal("foreign_permanent_residence", with_check("99984019800101001"))
    assert error.code == "id_region_invalid"


def test_refuses_an_18_digit_permanent_residence_number_not_starting_with_9():
    error = refusal("foreign_permanent_residence", "11010519491231002X")
    assert error.code == "id_number_format"


def test_refuses_a_2017_permanent_residence_card_with_month_13():
    error = refusal("foreign_permanent_residence", "USA110079130123")
    assert error.code == "id_birth_date_invalid"


@pytest.mark.parametrize(
    "number", ["US1100790101234", "USA11007901012", "USA1100790101234", "1234567890123456"]
)
def test_refuses_malformed_permanent_residence_cards(number):
    assert refusal("foreign_permanent_residence", number).code == "id_number_format"


# --- 外国护照 and 外国人工作许可证 ------------------------------------------------------


@pytest.mark.parametrize("number", ["X1234", "533380006", "AB1234567890CDEFG"])
def test_accepts_foreign_passports_of_5_to_17_letters_and_digits(number):
    assert normalize_document("foreign_passport", number, today=TODAY) == number


@pytest.mark.parametrize("number", ["X123", "AB1234567890CDEFGH", "AB-123456", "护照123456"])
def test_refuses_foreign_passports_outside_5_to_17_letters_and_digits(number):
    assert refusal("foreign_passport", number).code == "id_number_format"


@pytest.mark.parametrize("number", ["123456789", "A12345678901234567"])
def test_accepts_work_permits_of_9_to_18_letters_and_digits(number):
    assert normalize_document("foreign_work_permit", number, today=TODAY) == number


@pytest.mark.parametrize("number", ["12345678", "1234567890123456789", "A1234567/9"])
def test_refuses_work_permits_outside_9_to_18_letters_and_digits(number):
    assert refusal("foreign_work_permit", number).code == "id_number_format"


# --- Birth dates ---------------------------------------------------------------------


def test_reads_the_birth_date_of_a_resident_id():
    assert birth_date_of("resident_id", "11010519491231002X", today=TODAY) == date(1949, 12, 31)


def test_reads_the_birth_date_of_a_legacy_resident_id():
    assert birth_date_of("resident_id", "110105491231002", today=TODAY) == date(1949, 12, 31)


def test_reads_the_birth_date_of_a_residence_permit_and_a_2023_permanent_residence_card():
    permit = with_check("83000019900101001")
    card = with_check("91184019800102001")
    assert birth_date_of("hmt_residence_permit", permit, today=TODAY) == date(1990, 1, 1)
    assert birth_date_of(IdType.FOREIGN_PERMANENT_RESIDENCE, card, today=TODAY) == date(1980, 1, 2)


@pytest.mark.parametrize(
    "id_type, number",
    [
        ("foreign_permanent_residence", "USA110079010123"),
        ("hk_macao_permit", "H12345678"),
        ("taiwan_permit", "12345678"),
        ("cn_passport", "E12345678"),
        ("foreign_passport", "X1234567"),
        ("foreign_work_permit", "123456789"),
    ],
)
def test_gives_no_birth_date_for_documents_that_do_not_reliably_carry_one(id_type, number):
    assert birth_date_of(id_type, number, today=TODAY) is None


def test_birth_date_of_refuses_an_invalid_number():
    with pytest.raises(InvalidInput) as caught:
        birth_date_of("resident_id", "110105194912310021", today=TODAY)
    assert caught.value.code == "id_check_digit_invalid"


# --- USCC ----------------------------------------------------------------------------


def test_accepts_a_valid_unified_social_credit_code():
    assert normalize_uscc("91350100M000100Y43") == "91350100M000100Y43"


def test_accepts_a_unified_social_credit_code_typed_in_lower_case_with_spaces():
    assert normalize_uscc(" 9135 0100 m000 100y43 ") == "91350100M000100Y43"


def test_accepts_a_unified_social_credit_code_with_a_letter_registering_authority():
    body = "Y1110000MA0000001"
    code = body + stdnum_uscc.calc_check_digit(body + "0")
    assert normalize_uscc(code) == code


def test_refuses_unified_social_credit_code_with_wrong_check_char():
    with pytest.raises(InvalidInput) as caught:
        normalize_uscc("91350100M000100Y44")
    assert caught.value.code == "uscc_check_digit_invalid"
    assert caught.value.field == "uscc"
    assert_chinese(caught.value.message)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("", "uscc_required"),
        (None, "uscc_required"),
        ("91350100M000100Y4", "uscc_length"),
        ("91350100M000100Y433", "uscc_length"),
        ("91350100M000100I43", "uscc_format"),
        ("913501O0M000100Y43", "uscc_format"),
        ("9135010-M000100Y43", "uscc_format"),
    ],
)
def test_refuses_malformed_unified_social_credit_codes(code, expected):
    with pytest.raises(InvalidInput) as caught:
        normalize_uscc(code)
    assert caught.value.code == expected
    assert caught.value.field == "uscc"
    assert_chinese(caught.value.message)


# --- Masking -------------------------------------------------------------------------


def test_masks_a_resident_id_keeping_the_first_and_last_four():
    assert mask_id_number("370203198001011234") == "3702**********1234"


def test_masks_a_short_number_keeping_only_the_last_two():
    assert mask_id_number("12345678") == "******78"


def test_masks_a_one_or_two_character_number_entirely():
    assert mask_id_number("12") == "**"
    assert mask_id_number("") == ""


@given(st.text(alphabet=string.ascii_letters + string.digits, max_size=40))
def test_masking_never_reveals_more_than_8_characters(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert sum(ch != "*" for ch in masked) <= 8


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8))
def test_masking_a_short_number_reveals_at_most_two_characters(number):
    assert sum(ch != "*" for ch in mask_id_number(number)) <= 2


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张", "*"),
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳锋", "欧*锋"),
        ("欧阳娜娜", "欧**娜"),
        ("", ""),
    ],
)
def test_masks_chinese_names_keeping_first_and_last_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    "name, masked",
    [("John Smith", "J*** S***"), ("Anna", "A***"), ("  Mary  Ann Lee ", "M*** A*** L***")],
)
def test_masks_latin_names_to_the_first_letter_of_each_word(name, masked):
    assert mask_name(name) == masked
