"""The last guard on log lines: document numbers, phones and authorization values never get through."""
from __future__ import annotations

from app.observability.logs import scrub
from app.services.events import mask


def test_a_resident_id_number_in_a_line_keeps_only_its_region_and_last_four():
    assert scrub("looked up 370202198503150013 today") == "looked up 370202********0013 today"
    assert scrub("X at the end: 11010519491231002X.") == "X at the end: 110105********002X."


def test_a_mobile_number_is_masked_but_an_order_number_is_not():
    assert scrub("sms to 13812345678") == "sms to 138****5678"
    assert scrub("order 2026120222540853989305") == "order 2026120222540853989305"


def test_digits_inside_a_request_id_or_uuid_are_left_alone_and_a_number_beside_words_is_not():
    rid = "ae259d6b97d644458da17698480992e5"  # a uuid4 hex with eleven digits in a row (a CI run had one)
    line = f'{{"request_id": "{rid}", "notification": "3766521f-e009-4213-8b15-139847309921"}}'
    assert scrub(line) == line
    assert scrub("17698480992e5a") == "17698480992e5a" and scrub("d370202198503150013a") == "d370202198503150013a"
    assert scrub("手机13812345678，用户zhang13812345678") == "手机138****5678，用户zhang138****5678"
    assert scrub('{"phone": "13812345678"}') == '{"phone": "138****5678"}'
    assert scrub("证件370202198503150013号") == "证件370202********0013号"


def test_codes_tokens_and_signatures_in_a_query_or_form_are_hidden():
    line = 'GET /channels/wechat_oa/callback?code=0a1B2c&state=xyz "POST /notify sign=QUJD&signature=ZGVm"'
    assert scrub(line) == 'GET /channels/wechat_oa/callback?code=***&state=xyz "POST /notify sign=***&signature=***"'


def test_terminal_colours_are_dropped():
    assert scrub("\x1b[31m\x1b[1mWARNING\x1b[0m") == "WARNING"


def test_a_channel_user_id_is_shortened_to_four_characters():
    assert mask("o3xYzLongOpenId") == "o3xY*" and mask(None) is None and mask("abc") == "*"
