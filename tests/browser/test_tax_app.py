"""The tax app in Chromium: register with the SMS sandbox's inbox, sign in with the second factor, then
pay a month in 税税通 (青岛) and a year in 移动办税 (西藏) with 建行支付 at the sandbox bank, and see the records.

Screenshots of every step go to test-artifacts/browser/.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from payments.sandbox.common import SandboxClient
from tests.browser.test_payer_pages import _months_back, browser, demo, page, shot  # noqa: F401 (fixtures)
from tests.served import served_world


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory):
    """The sandboxes and our app; money reaches the treasury at once, so a certificate can follow the payment."""
    with served_world(settings, tmp_path_factory.mktemp("sandbox-keys"), TREASURY_DELAY_WORKING_DAYS=0) as world:
        yield world

PASSWORD = "Qd-lingHuo-2026!pay"


def sms_code(page: Page, world, phone: str) -> str:
    inbox = page.context.new_page()
    inbox.goto(f"{world['ours'].url}/sandbox/sms/{phone}")
    text = inbox.locator(".message").first.inner_text()
    inbox.close()
    return re.search(r"验证码为(\d{6})", text).group(1)


def register(page: Page, world, name: str, id_number: str, username: str, phone: str) -> None:
    page.get_by_role("link", name="新用户注册").click()
    page.locator("#agreed").check()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("性别").select_option("male")
    page.get_by_label(re.compile("^用户名")).fill(username)
    page.get_by_label(re.compile("^密码")).fill(PASSWORD)
    page.get_by_label("手机号码").fill(phone)
    expect(page.locator("#human-check-status")).to_have_text("人机验证已完成")
    page.locator("#send-code").click()
    expect(page.locator(".notice")).to_contain_text("验证码已发送")
    page.get_by_label(re.compile("^密码")).fill(PASSWORD)  # never sent back to the page
    page.get_by_label("短信验证码").fill(sms_code(page, world, phone))
    shot(page, "register")
    page.locator("#register-submit").click()


def sign_in(page: Page, world, username: str, phone: str) -> None:
    page.get_by_label("用户名 / 手机号码 / 证件号码").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    expect(page.locator("#human-check-status")).to_have_text("人机验证已完成")
    shot(page, "login")
    page.locator("#login-submit").click()
    page.get_by_label("短信验证码").fill(sms_code(page, world, phone))
    shot(page, "second-factor")
    page.locator("#verify-submit").click()
    expect(page.get_by_role("heading", name=re.compile("个人信息保护告知同意书"))).to_be_visible()
    page.locator("#agree").check()
    shot(page, "consent")
    page.locator("#consent-submit").click()


def identify(page: Page, person: dict) -> None:
    page.get_by_label("参保人姓名").fill(person["name"])
    page.get_by_label("证件号码").fill(person["id_number"])
    page.locator("#identify-submit").click()
    expect(page.locator("#modules")).to_be_visible()
    shot(page, "menu")


def open_module(page: Page, world, submenu: str, module: str) -> None:
    """Through the seed's menus: 办税 → 个人办税 → 灵活就业、居民社保费缴纳 (002), 社保 → 申报及缴纳 (004)."""
    page.goto(world["ours"].url + f"/h5/tax_app/menu/{submenu}")
    page.locator(f"#module-{module}").click()


def test_qingdao_register_sign_in_and_pay_a_month_in_the_tax_app(world, page):
    zhang = demo("张伟", "pension")
    with world["app"].extensions["sbf"].uow() as uow:
        phone = uow.persons.find_by_document("resident_id", zhang["id_number"]).phone  # the phone on record
    page.goto(world["ours"].url + "/")
    page.locator("#entry-tax_app").click()
    expect(page.get_by_role("heading", name="个人登录", exact=True)).to_be_visible()
    register(page, world, zhang["name"], zhang["id_number"], "zhangwei", phone)
    expect(page.locator(".notice")).to_contain_text("注册成功")  # the phone on record: no face check
    sign_in(page, world, "zhangwei", phone)
    identify(page, zhang)  # back in the channel, paying for oneself
    open_module(page, world, "flexible_resident", "choose")
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    page.get_by_label("缴费基数（元/月）").fill("3980")
    page.get_by_label("生效年月").fill(_months_back(0))
    page.locator("#choose-submit").click()
    expect(page.locator("#chosen-title")).to_contain_text("确认成功")
    open_module(page, world, "flexible_resident", "pay")
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    shot(page, "declare")
    page.locator("#declare-submit").click()
    page.locator("#checkout-submit").click()
    methods = page.locator("input[name=method]")
    assert sorted(methods.evaluate_all("els => els.map(e => e.value)")) == ["alipay.qr", "unionpay.qr",
                                                                            "wechatpay.native"]
    shot(page, "check-order")
    page.locator("#pay-submit").click()
    expect(page.locator("img.qr")).to_be_visible()
    expect(page.locator("#save-qr")).to_have_attribute("download", re.compile(r"\.svg$"))  # 保存到相册 (seed 004)
    order_no = page.url.rsplit("/", 1)[1]
    SandboxClient(world["urls"]["wechatpay"]).pay(order_no)  # the payer scans the code with WeChat
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=15000)
    shot(page, "paid")
    page.locator("#to-records").click()
    expect(page.locator(".record").first).to_contain_text("缴费成功")
    shot(page, "records")
    page.goto(world["ours"].url + "/tax-app/")  # 查询 → 公众查询 → 社保费完税证明
    page.locator("#menu-certificates").click()
    page.get_by_label("费款所属期起").fill(_months_back(0))
    page.get_by_label("费款所属期止").fill(_months_back(0))
    page.locator("#issue").click()
    link = page.locator(".certificate-pdf").first
    expect(link).to_be_visible()
    shot(page, "certificate")
    pdf = page.request.get(world["ours"].url + link.get_attribute("href"))
    assert pdf.ok and pdf.body()[:4] == b"%PDF"


def test_xizang_register_with_the_face_check_and_pay_a_year_with_ccb(world, page):
    zhaxi = demo("扎西", "pension")
    page.goto(world["ours"].url + "/h5/tax_app/")
    register(page, world, zhaxi["name"], zhaxi["id_number"], "zhaxi", "13700005555")  # not the phone on record
    expect(page.get_by_role("heading", name="人脸识别认证")).to_be_visible()
    shot(page, "face-check")
    with page.expect_popup() as popup:
        page.locator("#check-link").click()
    check = popup.value
    check.get_by_role("button", name="完成人脸识别（通过）").click()
    expect(check.locator("#outcome")).to_have_text("认证通过")
    check.close()
    page.locator("#check-done").click()
    expect(page.locator(".notice")).to_contain_text("注册成功")
    page.goto(world["ours"].url + "/h5/tax_app/")
    sign_in(page, world, "zhaxi", "13700005555")
    identify(page, zhaxi)
    open_module(page, world, "declare_pay", "base")  # 选档: the grade of the year (seed 004)
    page.locator(f"#enrollment-{zhaxi['insured_number']}").click()
    page.locator("label[for^=grade-]").first.click()
    shot(page, "grade")
    page.locator("#choose-submit").click()
    expect(page.locator("#chosen-title")).to_contain_text("确认成功")
    open_module(page, world, "declare_pay", "declare_and_pay")
    page.locator(f"#enrollment-{zhaxi['insured_number']}").click()
    page.locator("#declare-submit").click()
    page.locator("#checkout-submit").click()
    methods = page.locator("input[name=method]")
    assert methods.evaluate_all("els => els.map(e => e.value)") == ["alipay.qr", "ccb.card"]
    page.locator("label", has_text="建行支付").click()
    shot(page, "check-order")
    page.locator("#pay-submit").click()
    page.get_by_label("建行卡号").fill("6217002870000000002")
    page.get_by_label("证件号码后四位").fill("0350")
    shot(page, "ccb-card")
    page.get_by_role("button", name="确认支付").click()
    page.get_by_label("账户姓名").fill("扎西")
    page.get_by_label("取现密码").fill("222222")
    shot(page, "ccb-password")
    page.get_by_role("button", name="完成支付").click()
    expect(page.locator("#result")).to_have_text("支付成功")
    page.get_by_role("link", name="返回商户").click()
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=15000)
    shot(page, "paid")
    page.locator("#to-records").click()
    expect(page.locator(".record").first).to_contain_text("缴费成功")
    shot(page, "records")
