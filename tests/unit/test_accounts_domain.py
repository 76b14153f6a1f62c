"""The account rules without I/O: usernames, phones, the registration form, session timeouts."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.domain.accounts import (RegistrationForm, SessionPolicy, mask_phone, normalize_phone, normalize_username)
from app.domain.documents import ACCOUNT_ID_TYPES, normalize_document
from app.domain.errors import InvalidInput

TODAY = date(2026, 11, 23)
FORM = {"agreed": True, "name": " 张伟 ", "id_type": "resident_id", "id_number": "370202 19850315 0013",
        "gender": "male", "nationality": "chn", "username": "ZhangWei_01", "phone": "+86 138-0000-0001"}


def test_usernames_compare_without_case_and_never_look_like_a_phone():
    assert normalize_username("ZhangWei_01") == "zhangwei_01"
    for bad in ("13800000001", "ab", "1abc", "张伟", "a" * 21):
        with pytest.raises(InvalidInput):
            normalize_username(bad)


def test_phones_are_mainland_mobiles_written_any_common_way():
    assert normalize_phone("+86 138-0000-0001") == normalize_phone("１３８００００００01") == "13800000001"
    with pytest.raises(InvalidInput) as refused:
        normalize_phone("12800000001")
    assert refused.value.message == "请输入11位中国大陆手机号码"
    assert mask_phone("13800000001") == "138****0001"


def test_a_registration_form_is_normalised_field_by_field():
    form = RegistrationForm.parse(FORM, TODAY)
    assert (form.name, form.id_number, form.nationality, form.username, form.phone) == (
        "张伟", "370202198503150013", "CHN", "zhangwei_01", "13800000001")


@pytest.mark.parametrize("field, value, code", [("agreed", False, "agreement_required"), ("name", " ", "name_required"),
                                                ("id_type", "hmt_residence_permit", "id_type_unknown"),
                                                ("gender", "x", "gender_required"),
                                                ("nationality", "china", "nationality_required")])
def test_each_missing_or_wrong_field_is_named(field, value, code):
    with pytest.raises(InvalidInput) as refused:
        RegistrationForm.parse({**FORM, field: value}, TODAY)
    assert refused.value.code == code and refused.value.field == field


def test_the_eleven_documents_of_the_web_bureau_each_validate_their_own_numbers():
    assert len(ACCOUNT_ID_TYPES) == 11
    assert normalize_document("hk_macao_residence_permit", "810000199408230013", today=TODAY)
    with pytest.raises(InvalidInput) as refused:
        normalize_document("taiwan_residence_permit", "810000199408230013", today=TODAY)
    assert refused.value.code == "id_region_invalid" and "830000" in refused.value.message
    assert normalize_document("foreign_work_permit_a", "wp 1234 5678 9", today=TODAY) == "WP123456789"


def test_a_session_ends_when_idle_or_too_old_whichever_comes_first():
    policy = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    start = datetime(2026, 11, 23, 9, 0)
    assert policy.alive(start, start + timedelta(minutes=10), start + timedelta(minutes=39))
    assert not policy.alive(start, start + timedelta(minutes=10), start + timedelta(minutes=40))
    assert not policy.alive(start, start + timedelta(hours=7, minutes=59), start + timedelta(hours=8))
