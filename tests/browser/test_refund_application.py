"""A refund application end to end in Chromium: 张伟 pays a month in the tax app, applies for it back as a
double payment (filing a bank account on the way), clerk A accepts, clerk B approves in the back office
(A may not), the payout goes to the sandbox bank by transfer (the payment is past WeChat Pay's refund
window by then), and the payer sees 已退费; status, statement and certificate verification agree.

Screenshots of every step go to test-artifacts/browser/.
"""
from __future__ import annotations

from datetime import timedelta

import requests
from playwright.sync_api import Page, expect

from app.services import call_worker, certificates, declarations, lookback
from payments.sandbox.common import SandboxClient
from tests.backoffice.support import PASSWORD, code, create_staff
from tests.browser.conftest import browser, page, shot, world  # noqa: F401  (fixtures)
from tests.browser.test_payer_pages import _months_back, demo
from tests.browser.test_tax_app import PASSWORD as ACCOUNT_PASSWORD, identify, open_module, register, sign_in, sms_code

CARD = "6222020200112233446"  # passes Luhn


def pay_a_month(page: Page, world, zhang: dict) -> str:
    """The tax app's 缴费 step, as the tax app test walks it; answers the order number."""
    open_module(page, world, "flexible_resident", "choose")
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    page.get_by_label("缴费基数（元/月）").fill("3980")
    page.get_by_label("生效年月").fill(_months_back(0))
    page.locator("#choose-submit").click()
    expect(page.locator("#chosen-title")).to_contain_text("确认成功")
    open_module(page, world, "flexible_resident", "pay")
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    page.locator("#declare-submit").click()
    page.locator("#checkout-submit").click()
    page.locator("input[name=method][value='wechatpay.native']").check(force=True)
    page.locator("#pay-submit").click()
    expect(page.locator("img.qr")).to_be_visible()
    order_no = page.url.rsplit("/", 1)[1]
    SandboxClient(world["urls"]["wechatpay"]).pay(order_no)
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=15000)
    shot(page, "paid")
    return order_no


def apply_for_the_month(page: Page, world) -> str:
    """社保 → 社保费正常缴费退费申请, through seed 004's steps; answers the application's number."""
    page.goto(world["ours"].url + "/tax-app/")
    page.locator("#menu-refund").click()
    expect(page.locator("#refund-person")).to_contain_text("中国")
    expect(page.locator("#refund-person")).to_contain_text("**********")  # the document number masked
    shot(page, "refund-person")
    page.locator("input[name=insurance][value=pension]").check()
    page.locator("#refund-next").click()
    expect(page.get_by_role("heading", name="存款账户账号备案")).to_be_visible()  # none filed yet
    page.get_by_label("开户银行").select_option("105")
    page.get_by_label("账户类型").select_option("card")
    page.get_by_label("银行账号").fill(CARD)
    page.get_by_label("账户户名").fill("张伟")
    shot(page, "file-account")
    page.locator("#bank-account-submit").click()
    expect(page.get_by_label("退费银行账户")).to_contain_text("3446")  # and back to the application
    page.get_by_label("退费原因类型").select_option("duplicate")
    page.get_by_label("退费申请理由").fill("本月已由单位代缴，个人重复缴纳")
    page.locator("#add-items").click()
    page.get_by_label("所属期起").fill(_months_back(0))
    page.get_by_label("所属期止").fill(_months_back(0))
    page.locator("#items-query").click()
    page.locator("#refund-items input[type=checkbox]").first.check()
    shot(page, "refund-items")
    page.locator("#items-add").click()
    expect(page.locator("#refund-added")).to_contain_text(_months_back(0))
    expect(page.get_by_label("退费申请理由")).to_have_value("本月已由单位代缴，个人重复缴纳")
    shot(page, "refund-form")
    page.locator("#refund-submit").click()
    expect(page.locator("#refund-done")).to_have_text("退费申请成功")
    shot(page, "refund-done")
    return page.locator("#application-no").inner_text()


def staff_sign_in(page: Page, world, username: str, secret: str, clock) -> None:
    page.goto(world["ours"].url + "/backoffice/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("#login-submit").click()
    page.get_by_label("动态验证码").fill(code(secret, clock))
    page.locator("#verify-submit").click()


def test_a_double_payment_is_refunded_through_the_bank_after_two_clerks(world, page, browser, browser_clock):  # noqa: F811
    app = world["app"]
    c = app.extensions["sbf"]
    zhang = demo("张伟", "pension")
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", zhang["id_number"])
    page.goto(world["ours"].url + "/h5/tax_app/")
    register(page, world, zhang["name"], zhang["id_number"], "zhangwei", person.phone)
    sign_in(page, world, "zhangwei", person.phone)
    identify(page, zhang)
    pay_a_month(page, world, zhang)
    month = _months_back(0)
    cert = certificates.issue_certificate(person.id, month, month, c.uow(), browser_clock, c.policies,
                                          c.certificates)["certificates"][0]
    number = apply_for_the_month(page, world)

    # a year on: WeChat Pay no longer takes a refund of it, so the money goes by bank transfer
    browser_clock.set(browser_clock.now() + timedelta(days=400))
    runner = app.test_cli_runner()
    secret_a, secret_b = create_staff(runner, "li.si", "accept", "approve"), create_staff(runner, "wang.wu", "approve")
    clerk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    clerk.shots, clerk.step = page.shots, 100
    staff_sign_in(clerk, world, "li.si", secret_a, browser_clock)
    clerk.get_by_role("navigation").get_by_role("link", name="退费审核").click()
    clerk.get_by_role("link", name=number).click()
    expect(clerk.locator("#refund-evidence")).to_contain_text(month)
    shot(clerk, "review-detail")
    clerk.locator("#refund-accept").click()
    expect(clerk.locator("#refund-state")).to_have_text("审核中")
    clerk.locator("#refund-approve").click()  # li.si holds 审核 too, but accepted it
    expect(clerk.locator("main")).to_contain_text("受理人不能审核自己受理的退费申请")
    shot(clerk, "four-eyes")
    clerk.context.close()

    approver = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    approver.shots, approver.step = page.shots, 200
    staff_sign_in(approver, world, "wang.wu", secret_b, browser_clock)
    approver.goto(world["ours"].url + f"/backoffice/refunds/{number}")
    approver.locator("#refund-approve").click()
    expect(approver.locator("#refund-state")).to_have_text("退费中")
    expect(approver.locator("#refund-payouts")).to_contain_text("退至备案银行账户")
    shot(approver, "approved")
    call_worker.run_due_calls(c.uow(), c.payments)  # the worker sends the transfer to the sandbox bank
    bank = requests.get(world["urls"]["bank"] + "/_control", timeout=5).json()
    assert [(p["account_no"], p["code"]) for p in bank["payouts"]] == [(CARD, "00")]
    approver.context.close()

    # the payer (signed in again: a year has passed) sees 已退费
    page.goto(world["ours"].url + "/refunds/tax_app/")
    if "/accounts/login" in page.url:  # the session ended long ago: sign in again, and back here
        page.get_by_label("用户名 / 手机号码 / 证件号码").fill("zhangwei")
        page.get_by_label("密码").fill(ACCOUNT_PASSWORD)
        expect(page.locator("#human-check-status")).to_have_text("人机验证已完成")
        page.locator("#login-submit").click()
        page.get_by_label("短信验证码").fill(sms_code(page, world, person.phone))
        page.locator("#verify-submit").click()
    expect(page.locator("#refund-applications .refund-state").first).to_have_text("已退费")
    shot(page, "refunded")
    # status by notice number, the statement's total and the certificate's verification
    status = declarations.payment_status(person.id, c.uow(), c.policies, browser_clock,
                                         notice_number=_notice(c, person.id))
    assert [r["status_label"] for r in status["periods"]] == ["已退费"]
    paid_on = (browser_clock.now() - timedelta(days=400)).date()
    statement = lookback.payment_statement(person.id, c.uow(), browser_clock, paid_on - timedelta(days=2),
                                           paid_on + timedelta(days=2))
    assert statement["total_fen"] == 0 and statement["rows"][0]["state_label"] == "已退费"
    page.goto(world["ours"].url + f"/verify?certificate_no={cert['certificate_no']}&code={cert['verification_code']}")
    expect(page.locator("#verify-refunded")).to_be_visible()
    expect(page.locator("#verify-result")).to_contain_text("（已退费）")
    shot(page, "verify")


def _notice(c, person_id: int) -> str:
    with c.uow() as uow:
        enrollment = next(e for e in uow.enrollments.list_for_person(person_id) if e.insurance == "pension")
        return next(a.notice_number for a in uow.assessments.list_for_enrollment(enrollment.id))
