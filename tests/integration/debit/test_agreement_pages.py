"""委托扣款协议 pages over the test client against the sandbox bank: behind the sign-in, bad input answered
in the payer's words with nothing written, an agreement signed at the bank for another insured person (人卡
分离), and 协议缴纳 from the e-tax bureau's checkout with the password switched off."""
from __future__ import annotations

import re

import pytest

from tests.accounts.support import ZHANG, phone_of_record, register
from tests.accounts.test_pages import csrf, sign_in
from tests.integration.debit.conftest import CARD
from tests.integration.debit.test_agreement_api import LI

E = "/etax/agreements"


@pytest.fixture
def signed_in(app, client, zhang):
    phone = phone_of_record(app, ZHANG)
    register(client, ZHANG, "zhangwei", phone)
    sign_in(client, "zhangwei", phone)
    return phone


def count(container, table: str) -> int:
    from sqlalchemy import text

    with container.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": csrf(client.get(page)), **data})


def text_of(answer) -> str:
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("site, channel", [("/etax/agreements/", "etax_web"), ("/tax-app/agreements/", "tax_app")])
def test_the_agreement_pages_need_a_signed_in_account(client, site, channel):
    answer = client.get(site + "new")
    assert answer.status_code == 302 and f"/accounts/login?channel={channel}&next={site}new" in answer.location


def test_bad_input_is_answered_in_the_payers_words_and_writes_nothing(client, container, signed_in):
    wrong = post(client, f"{E}/accounts/new", f"{E}/accounts/new", bank_code="105", account_kind="card",
                 account_no="6222020200112233445", holder_name="张伟")
    assert wrong.status_code == 400 and "银行卡号校验未通过" in text_of(wrong)
    other = post(client, f"{E}/accounts/new", f"{E}/accounts/new", bank_code="105", account_kind="card",
                 account_no=CARD, holder_name="李四")
    assert other.status_code == 400 and "账户户名与参保人姓名不一致" in text_of(other)
    assert count(container, "bank_account") == 0
    assert client.post(f"{E}/accounts/new", data={"bank_code": "105"}).status_code == 400  # no CSRF token
    assert "页面已过期" in text_of(client.post(f"{E}/accounts/new", data={"bank_code": "105"}))

    filed = post(client, f"{E}/accounts/new", f"{E}/accounts/new", bank_code="105", account_kind="card",
                 account_no=CARD, holder_name="张伟")
    assert filed.status_code == 302
    page = text_of(client.get(f"{E}/new"))
    account_id = re.search(r'name="bank_account_id" value="(\d+)"', page).group(1)
    unknown = post(client, f"{E}/new", f"{E}/new", mode="signed_at_bank", bank_account_id=account_id,
                   agreement_no="AG000000")
    assert unknown.status_code == 400 and "银行未查到该生效协议" in text_of(unknown)
    no_mode = post(client, f"{E}/new", f"{E}/new", bank_account_id=account_id)
    assert no_mode.status_code == 400 and "请选择已在银行签署协议或未在银行签署协议" in text_of(no_mode)
    assert count(container, "debit_agreement") == 0

    bad_code = post(client, f"{E}/password", f"{E}/password", sms_code="000000", password="258369",
                    password_again="258369")
    assert bad_code.status_code == 400 and "验证码" in text_of(bad_code)
    weak = post(client, f"{E}/password", f"{E}/password", sms_code="000000", password="123456",
                password_again="123456")
    assert weak.status_code == 400 and "支付密码过于简单" in text_of(weak)
    missing = post(client, f"{E}/999999/revoke", f"{E}/")
    assert missing.status_code == 302
    assert "未找到该委托扣款协议" in text_of(client.get(missing.location))
    nothing = post(client, f"{E}/pay/confirm", f"{E}/pay")
    assert "请勾选要缴纳的欠费信息" in text_of(client.get(nothing.location))


def test_an_agreement_signed_at_the_bank_for_another_insured_person_with_a_third_holder(client, container, bank,
                                                                                       signed_in):
    asked = post(client, f"{E}/new?whom=other", f"{E}/new?whom=other", action="query", other_name=LI["name"],
                 other_id_type="resident_id", other_id_number=LI["id_number"])
    assert asked.status_code == 302 and "whom=other" in asked.location
    page = text_of(client.get(asked.location))
    assert "李*英" in page and "尚未进行存款账户账号备案" in page
    li = re.search(r"person_id=(\d+)", asked.location).group(1)
    filed = post(client, f"{E}/accounts/new?person_id={li}&next=new", f"{E}/accounts/new?person_id={li}",
                 person_id=li, bank_code="105", account_kind="card", account_no=CARD, holder_name="张伟",
                 holder_is_other="1", holder_id_type="resident_id", holder_id_number=ZHANG["id_number"], next="new")
    assert filed.status_code == 302 and f"person_id={li}" in filed.location
    page = client.get(filed.location)
    account_id = re.search(r'name="bank_account_id" value="(\d+)"', text_of(page)).group(1)
    number = bank.counter_agreement(CARD, "张伟")  # 已在银行签署: the number on the bank's receipt
    signed = client.post(filed.location, data={"csrf_token": csrf(page), "person_id": li, "mode": "signed_at_bank",
                                               "bank_account_id": account_id, "agreement_no": number})
    assert signed.status_code == 302
    listed = text_of(client.get(signed.location))
    assert "签约成功，协议已生效" in listed and "李*英（他人）" in listed and number in listed
    assert "持卡人：张*" in listed and CARD not in listed


def test_agreement_payment_from_the_etax_checkout_without_a_password_when_switched_off(client, container, bank,
                                                                                     signed_in):

    post(client, f"{E}/accounts/new", f"{E}/accounts/new", bank_code="105", account_kind="card", account_no=CARD,
         holder_name="张伟")
    account_id = re.search(r'name="bank_account_id" value="(\d+)"', text_of(client.get(f"{E}/new"))).group(1)
    post(client, f"{E}/new", f"{E}/new", mode="signed_online", bank_account_id=account_id)
    post(client, f"{E}/password", f"{E}/password", action="send")
    code = re.search(r"验证码(\d{6})", container.sms.messages(signed_in)[0]["text"]).group(1)
    post(client, f"{E}/password", f"{E}/password", sms_code=code, password="258369", password_again="258369")
    off = post(client, f"{E}/password/enabled", f"{E}/", enabled="0", password="258369")
    assert "已关闭支付密码" in text_of(client.get(off.location))

    post(client, "/etax/declare", "/etax/declare")  # the notice read
    page = text_of(client.get("/etax/declare"))
    eid = re.search(r'action="/etax/declare/(\d+)/base"', page).group(1)
    post(client, f"/etax/declare/{eid}/base", "/etax/declare", scheme="base", base_yuan="3980",
         effective_month="2026-11")
    ids = re.findall(r'name="assessment_ids" value="(\d+)"', text_of(client.get("/etax/declare")))
    checkout = text_of(post(client, "/etax/checkout", "/etax/declare", assessment_ids=ids[:1]))
    assert 'id="pay-by-agreement"' in checkout
    ticked = text_of(client.get(f"/tax-app/agreements/pay?assessment_ids={ids[0]}"))  # the tax app's checkout link
    assert f'id="due-{ids[0]}" checked' in ticked
    confirm = post(client, f"{E}/pay/confirm", "/etax/declare", assessment_ids=ids[:1])
    shown = text_of(confirm)
    assert "支付密码未启用" in shown and 'name="password"' not in shown
    agreement_id = re.search(r'name="agreement_id" value="(\d+)"', shown).group(1)
    total = re.search(r'name="confirmed_amount_fen" value="(\d+)"', shown).group(1)
    paid = client.post(f"{E}/pay/submit", data={"csrf_token": csrf(confirm), "assessment_ids": ids[:1],
                                                "agreement_id": agreement_id, "confirmed_amount_fen": total})
    assert paid.status_code == 302 and "/etax/agreements/orders/" in paid.location
    result = text_of(client.get(paid.location))
    assert "缴费成功" in result and "电子税票号码" in result
    assert count(container, "payment") == 1
    again = client.post(f"{E}/pay/submit", data={"csrf_token": csrf(confirm), "assessment_ids": ids[:1],
                                                 "agreement_id": agreement_id, "confirmed_amount_fen": total})
    assert again.status_code == 302 and count(container, "payment") == 1  # paid once, whatever is sent again


def test_the_agreement_page_tells_the_payer_why_a_batch_debit_failed(app, client, container, bank, signed_in):
    from datetime import date

    from app.jobs.batch_debit import run_day
    from tests.e2e.test_api_core_flow import session

    post(client, f"{E}/accounts/new", f"{E}/accounts/new", bank_code="105", account_kind="card", account_no=CARD,
         holder_name="张伟")
    account_id = re.search(r'name="bank_account_id" value="(\d+)"', text_of(client.get(f"{E}/new"))).group(1)
    post(client, f"{E}/new", f"{E}/new", mode="signed_online", bank_account_id=account_id, auto_pay="1")
    api = app.test_client()  # the month declared with a base 允许用于批扣 (through the API, as a channel would)
    body, headers = session(api, ZHANG)
    enrollment = next(e["id"] for e in body["enrollments"] if e["insurance"] == "pension")
    assert api.post(f"/api/v1/enrollments/{enrollment}/choices", headers=headers, json={
        "base_fen": 500000, "effective_month": "2026-10", "batch_debit_allowed": True}).status_code == 201
    api.post(f"/api/v1/enrollments/{enrollment}/declarations", headers=headers, json={"periods": ["2026-11"]})
    bank.accounts(**{CARD: {"balance_fen": 0}})
    assert run_day(container, "370200", date(2026, 11, 25))["failed"] == 1
    page = text_of(client.get(f"{E}/"))
    assert "统一扣款记录" in page and "扣款未成功" in page and "账户余额不足" in page


def test_a_refused_or_late_debit_is_told_in_the_payers_words_on_the_pages(client, container, bank, signed_in):
    post(client, f"{E}/accounts/new", f"{E}/accounts/new", bank_code="105", account_kind="card", account_no=CARD,
         holder_name="张伟")
    account_id = re.search(r'name="bank_account_id" value="(\d+)"', text_of(client.get(f"{E}/new"))).group(1)
    post(client, f"{E}/new", f"{E}/new", mode="signed_online", bank_account_id=account_id)
    post(client, f"{E}/password", f"{E}/password", action="send")
    code = re.search(r"验证码(\d{6})", container.sms.messages(signed_in)[0]["text"]).group(1)
    post(client, f"{E}/password", f"{E}/password", sms_code=code, password="258369", password_again="258369")
    post(client, "/etax/declare", "/etax/declare")
    eid = re.search(r'action="/etax/declare/(\d+)/base"', text_of(client.get("/etax/declare"))).group(1)
    post(client, f"/etax/declare/{eid}/base", "/etax/declare", scheme="base", base_yuan="3980",
         effective_month="2026-11")
    ids = re.findall(r'name="assessment_ids" value="(\d+)"', text_of(client.get("/etax/declare")))[:1]

    def pay_now():
        confirm = post(client, f"{E}/pay/confirm", f"{E}/pay", assessment_ids=ids)
        shown = text_of(confirm)
        return client.post(f"{E}/pay/submit", data={
            "csrf_token": csrf(confirm), "assessment_ids": ids, "password": "258369",
            "agreement_id": re.search(r'name="agreement_id" value="(\d+)"', shown).group(1),
            "confirmed_amount_fen": re.search(r'name="confirmed_amount_fen" value="(\d+)"', shown).group(1)})

    bank.accounts(**{CARD: {"balance_fen": 100}})
    refused = pay_now()
    assert "扣款未成功：账户余额不足" in text_of(client.get(refused.location))
    assert count(container, "payment") == 0 and f'id="due-{ids[0]}"' in text_of(client.get(f"{E}/pay"))
    bank.accounts(**{CARD: {"balance_fen": 100_000_000}})
    bank.faults(late_results=True, late_seconds=600)
    late = text_of(client.get(pay_now().location))
    assert "银行处理中，请稍后查看缴费结果" in late and 'id="order-refresh"' in late
    assert count(container, "payment") == 0
