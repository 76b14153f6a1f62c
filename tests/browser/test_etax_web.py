"""The web e-tax bureau in Chromium: 扫码登录 confirmed from a signed-in tax app session, the risk notice,
the base, 申报缴费 by a QR code (WeChat Pay's sandbox), the status query, and a statement requested and
downloaded. Screenshots go to test-artifacts/browser/."""
from __future__ import annotations

from playwright.sync_api import expect

from payments.sandbox.common import SandboxClient
from tests.browser.test_payer_pages import _months_back, browser, demo, page, shot  # noqa: F401 (fixtures)
from tests.browser.test_tax_app import register, sign_in, world  # noqa: F401 (fixture)


def test_qr_sign_in_declare_pay_by_qr_and_download_a_statement(world, page, browser):  # noqa: F811
    zhang = demo("张伟", "pension")
    with world["app"].extensions["sbf"].uow() as uow:
        phone = uow.persons.find_by_document("resident_id", zhang["id_number"]).phone
    phone_app = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN").new_page()
    phone_app.shots, phone_app.step = page.shots, 100
    phone_app.goto(world["ours"].url + "/h5/tax_app/")  # the tax app: registered and signed in
    register(phone_app, world, zhang["name"], zhang["id_number"], "zhangwei", phone)
    sign_in(phone_app, world, "zhangwei", phone)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(world["ours"].url + "/")
    page.locator("#entry-etax_web").click()
    page.get_by_role("link", name="扫码登录").click()
    qr = page.locator("#qr-login")
    expect(qr).to_be_visible()
    shot(page, "qr-login")
    phone_app.goto(qr.get_attribute("data-confirm-url"))  # what scanning the QR opens in the app
    phone_app.locator("#qr-confirm").click()
    expect(phone_app.locator("#qr-confirmed")).to_be_visible()
    expect(page.get_by_role("heading", name="参保登记信息")).to_be_visible(timeout=10000)
    shot(page, "my-information")

    page.locator("#nav-declare").click()
    page.locator("#notice-read").click()
    page.get_by_label("缴费基数（元/月）").first.fill("3980")
    page.get_by_label("生效月份").first.fill(_months_back(0))
    page.locator("[id^=confirm-base-]").first.click()
    expect(page.locator(".notice")).to_contain_text("基数确认成功")
    page.locator("[id^=due-]").first.check()
    shot(page, "fees-due")
    page.locator("#pay-selected").click()
    page.get_by_label("微信扫码支付").check()
    page.locator("#create-order").click()
    expect(page.locator("#pay-qr")).to_be_visible()
    shot(page, "pay-by-qr")
    SandboxClient(world["urls"]["wechatpay"]).pay(page.url.rsplit("/", 1)[1])  # scanned with WeChat
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=15000)

    page.locator("#nav-status").click()
    page.locator("#status-query").click()
    expect(page.locator("#status-table")).to_contain_text("已缴纳")
    shot(page, "status")
    page.locator("#nav-statements").click()
    page.locator("#statement-request").click()
    expect(page.locator("#statement-requests")).to_contain_text("已完成")
    with page.expect_download() as download:
        page.locator(".statement-download").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    shot(page, "statement")
