"""委托扣款协议 in Chromium, at 360 px: the tax app's screens behind the account sign-in file an account, sign
an agreement online (the sandbox bank verifies it), set the payment password with an SMS code, and pay a
month declared on the web e-tax bureau by agreement; three wrong passwords sign the payer out and lock them
for three minutes of the test's clock (no sleeping); then 自动缴费 off and the agreement revoked after a
confirmation. Screenshots go to test-artifacts/browser/."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_payer_pages import _months_back, demo
from tests.browser.test_tax_app import PASSWORD, register, sign_in, sms_code
from tests.served import served_world

CARD = "6222020200112233446"  # passes Luhn
PAY_PASSWORD, WRONG = "258369", "135792"


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory, browser_clock):
    """Our app on the tests' clock beside the sandboxes (the bank among them); the payment-password
    codes are read from the sandbox SMS inbox."""
    with served_world(settings, tmp_path_factory.mktemp("sandbox-keys"), clock=browser_clock,
                      TREASURY_DELAY_WORKING_DAYS=0, SMS_INBOX_VISIBLE=True) as world:
        yield world


def password_code(world, phone: str) -> str:
    answer = requests.get(f"{world['ours'].url}/api/v1/sandbox/sms", params={"phone": phone}, timeout=5).json()
    texts = [m["text"] if isinstance(m, dict) else str(m) for m in answer["messages"]]
    return re.search(r"验证码(\d{6})", next(t for t in texts if "支付密码" in t)).group(1)


def declare_this_month(page: Page, world) -> None:
    """On the web e-tax bureau (the same sign-in): the base, and the month's fees appear."""
    page.goto(world["ours"].url + "/etax/declare")
    page.locator("#notice-read").click()
    page.get_by_label("缴费基数（元/月）").first.fill("3980")
    page.get_by_label("生效月份").first.fill(_months_back(0))
    page.locator("[id^=confirm-base-]").first.click()
    expect(page.locator(".notice")).to_contain_text("基数确认成功")


def sign_in_again(page: Page, world, username: str, phone: str) -> None:
    """The consent was given at the first sign-in: the password and the SMS code are enough."""
    page.get_by_label("用户名 / 手机号码 / 证件号码").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    expect(page.locator("#human-check-status")).to_have_text("人机验证已完成")
    page.locator("#login-submit").click()
    page.get_by_label("短信验证码").fill(sms_code(page, world, phone))
    page.locator("#verify-submit").click()


def pay_by_agreement(page: Page, world, password: str) -> None:
    page.goto(world["ours"].url + "/tax-app/agreements/pay")
    page.locator("[id^=due-]").first.check()
    page.locator("#pay-selected").click()
    expect(page.locator("#order-total")).to_be_visible()
    page.get_by_label("支付密码").fill(password)
    page.locator("#agreement-pay").click()


def test_file_sign_online_set_the_password_lock_and_pay_a_month_by_agreement(world, page, browser_clock):
    zhang = demo("张伟", "pension")
    with world["app"].extensions["sbf"].uow() as uow:
        phone = uow.persons.find_by_document("resident_id", zhang["id_number"]).phone
    page.goto(world["ours"].url + "/tax-app/")
    page.locator("#menu-agreement_query").click()  # 社保 → 委托扣款缴费协议查询: sign in first
    register(page, world, zhang["name"], zhang["id_number"], "zhangwei", phone)
    expect(page.locator(".notice")).to_contain_text("注册成功")
    sign_in(page, world, "zhangwei", phone)
    page.goto(world["ours"].url + "/tax-app/agreements/")
    expect(page.get_by_role("heading", name="委托扣款协议", exact=True)).to_be_visible()

    page.locator("#new-agreement").click()  # no account filed yet: the page says so and leads to the filing
    expect(page.locator("#file-first")).to_be_visible()
    page.locator("#file-account-first").click()
    page.get_by_label("开户银行").select_option("105")
    page.get_by_label("银行账号").fill("6222020200112233445")  # one digit wrong: Luhn refuses it
    page.get_by_label("账户户名").fill(zhang["name"])
    page.locator("#account-submit").click()
    expect(page.locator("#error-account_no")).to_contain_text("校验未通过")
    page.get_by_label("银行账号").fill(CARD)
    shot(page, "file-account")
    page.locator("#account-submit").click()
    expect(page.get_by_role("status").first).to_contain_text("存款账户账号备案成功")

    page.locator("#mode-online").check()  # 未在银行签署协议: saved, and the bank verifies it
    page.locator("#auto_pay").check()
    shot(page, "new-agreement")
    page.locator("#sign-submit").click()
    expect(page.locator("#agreements .agreement-state")).to_have_text("已生效")
    expect(page.locator("#accounts")).to_contain_text("6222 **** **** 3446")
    assert CARD not in page.content()
    shot(page, "agreement-active")

    page.locator("#set-password").click()
    page.locator("#send-code").click()
    page.get_by_label("短信验证码").fill(password_code(world, phone))
    page.get_by_label("支付密码", exact=True).fill(PAY_PASSWORD)
    page.get_by_label("再次录入支付密码").fill(PAY_PASSWORD)
    shot(page, "set-password")
    page.locator("#password-submit").click()
    expect(page.locator("#password-status")).to_have_text("支付密码已启用")

    declare_this_month(page, world)
    for tries_left in (2, 1):
        pay_by_agreement(page, world, WRONG)
        expect(page.get_by_role("status").first).to_contain_text(f"还可尝试{tries_left}次")
    pay_by_agreement(page, world, WRONG)  # the third: signed out and locked
    expect(page.get_by_role("heading", name="个人登录", exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text("已强制退出登录并锁定3分钟")
    shot(page, "locked-out")

    sign_in_again(page, world, "zhangwei", phone)
    pay_by_agreement(page, world, PAY_PASSWORD)  # even the right password waits for the lock to end
    expect(page.get_by_role("status").first).to_contain_text("分钟后再试")
    browser_clock.set(browser_clock.now() + timedelta(minutes=3, seconds=1))
    pay_by_agreement(page, world, PAY_PASSWORD)
    expect(page.locator("#order-state")).to_have_text("缴费成功")
    expect(page.locator(".e-ticket")).to_have_count(1)
    shot(page, "paid-by-agreement")

    page.locator("#ag-home").click()
    page.locator("[id^=auto-pay-]").click()
    expect(page.locator("[id^=auto-pay-]")).to_have_attribute("aria-checked", "false")
    page.locator("[id^=revoke-]").click()
    expect(page.locator("#revoke-question")).to_contain_text("确定撤销")
    shot(page, "revoke-confirm")
    page.locator("#revoke-confirm").click()
    expect(page.locator("#agreements .agreement-state")).to_have_text("已撤销")
    shot(page, "revoked")


def test_on_the_etax_bureau_an_agreement_signed_at_the_bank_for_another_insured_person(world, page, browser):
    zhang, li = demo("张伟", "pension"), demo("李秀英", "pension")
    with world["app"].extensions["sbf"].uow() as uow:
        phone = uow.persons.find_by_document("resident_id", zhang["id_number"]).phone
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(world["ours"].url + "/etax/agreements/")  # 我要办理 → 委托扣款协议: sign in first
    register(page, world, zhang["name"], zhang["id_number"], "zhangwei", phone)
    sign_in(page, world, "zhangwei", phone)
    page.goto(world["ours"].url + "/etax/me")
    page.locator("#nav-agreements").click()

    counter = browser.new_page()  # 李秀英 pays from 张伟's card (人卡分离), signed at the bank's counter
    counter.goto(world["urls"]["bank"] + "/")
    counter.locator("input[name=account_no]").fill(CARD)
    counter.locator("input[name=holder_name]").fill(zhang["name"])
    counter.get_by_role("button", name="签约").click()
    number = counter.locator("#made").inner_text()
    counter.close()

    page.locator("#new-agreement").click()
    page.locator("#for-other").click()
    page.get_by_label("姓名").fill(li["name"])
    page.get_by_label("证件号码").fill(li["id_number"])
    page.locator("#other-query").click()
    expect(page.locator("#insured")).to_contain_text("李*英")
    page.locator("#file-account-first").click()
    page.get_by_label("开户银行").select_option("105")
    page.get_by_label("银行账号").fill(CARD)
    page.get_by_label("账户户名").fill(zhang["name"])
    page.locator("#holder_is_other").check()
    page.get_by_label("持卡人证件号码（人卡分离时填写）").fill(zhang["id_number"])
    page.locator("#account-submit").click()
    expect(page.locator("#insured")).to_contain_text("李*英")
    page.locator("#mode-bank").check()
    page.get_by_label("银行协议号（已在银行签署协议时填写）").fill(number)
    shot(page, "etax-signed-at-bank")
    page.locator("#sign-submit").click()
    card = page.locator("#agreements section").first
    expect(card).to_contain_text("李*英（他人）")
    expect(card.locator(".agreement-state")).to_have_text("已生效")
    expect(card).to_contain_text(number)
    shot(page, "etax-agreements")
