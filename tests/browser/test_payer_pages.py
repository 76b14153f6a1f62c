"""The payer's pages in Debian's Chromium at 360 px, through each channel's entry, paying at the
sandbox cashiers, then looking back: records in Beijing time, 申报查询, 完税证明 (PDF and image),
缴费清单; a voiding round trip with its confirmation; Back and reload; error pages.
"""
from __future__ import annotations

import json
import subprocess
from io import BytesIO

from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Error as PlaywrightError, Page, expect
from sqlalchemy import text

from app.domain.periods import Month
from app.domain.zone import SHANGHAI
from tests.browser.accessibility import elder_problems
from tests.browser.conftest import (ROOT, browser, next_2340_utc, page, shot,  # noqa: F401  (fixtures: other
                                    world)  # browser tests import them from here)
from tests.timeline import wall_now

ROWS = json.loads((ROOT / "config" / "demo_people.json").read_text("utf-8"))["enrollments"]


def demo(name: str, insurance: str) -> dict:
    return next(r for r in ROWS if r["name"] == name and r["insurance"] == insurance)


def _months_back(n: int) -> str:
    """Kept for browser tests written against it: the month ``n`` before the tests' clock today."""
    return str(Month.of(next_2340_utc(wall_now()).astimezone(SHANGHAI).date()).plus(-n))


def this_month(page: Page) -> str:
    return str(Month.of(page.clock_now.astimezone(SHANGHAI).date()))


def beijing_minute(page: Page) -> str:
    return page.clock_now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def identify(page: Page, person: dict) -> None:
    page.get_by_label("参保人姓名").fill(person["name"])
    page.get_by_label("证件号码").fill(person["id_number"])
    shot(page, "identify")
    page.locator("#identify-submit").click()
    expect(page.locator("#modules")).to_be_visible()
    shot(page, "menu")


def choose_base(page: Page, yuan: str) -> None:
    page.get_by_label("缴费基数（元/月）").fill(yuan)
    expect(page.locator("#preview")).to_contain_text("每期应缴")
    page.get_by_label("生效年月").fill(this_month(page))
    shot(page, "base")
    page.locator("#choose-submit").click()
    expect(page.locator("#chosen-title")).to_have_text("基数确认成功")
    shot(page, "chosen")
    page.reload()  # a result page reloads without resubmitting
    expect(page.locator("#chosen-title")).to_have_text("基数确认成功")


def declare_and_check_out(page: Page) -> None:
    """申报 the periods checked by default, then 核对缴费金额 and 核对订单金额 with its notice."""
    shot(page, "declare")
    page.locator("#declare-submit").click()
    expect(page.locator("input[name=assessment_ids]:checked")).not_to_have_count(0)
    shot(page, "check-amount")
    page.locator("#checkout-submit").click()
    expect(page.locator("#order-total")).to_contain_text("元")
    expect(page.locator("#debit-notice")).to_contain_text("2-5个工作日按原渠道退还")
    shot(page, "check-order")


def paid(page: Page) -> None:
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=20000)
    expect(page.locator("#debit-notice")).to_be_visible()
    shot(page, "paid")
    page.reload()
    expect(page.locator("#order-state")).to_have_text("缴费成功")


def pay_in_popup_cashier(page: Page) -> None:
    """WeChat Pay JSAPI outside WeChat: the cashier opens beside our page, which polls for the result."""
    page.locator("#pay-submit").click()
    with page.expect_popup() as popup_info:
        page.locator("#open-cashier").click()
    cashier = popup_info.value
    cashier.get_by_role("button", name="确认支付").click()
    expect(cashier.locator("#cashier-done")).to_be_visible()
    with cashier.expect_event("close"):  # 完成 closes the cashier window opened beside our page
        try:
            cashier.locator("#cashier-done").click(no_wait_after=True)
        except PlaywrightError:
            pass  # the window closed while the click was being acknowledged: what 完成 is for
    paid(page)


def look_back(page: Page, world, channel: str) -> None:
    """缴费记录 in Beijing time with details, 申报查询, 完税证明 PDF and image, 缴费清单."""
    base = world["ours"].url + f"/h5/{channel}"
    page.goto(base + "/records")
    expect(page.locator(".record").first).to_contain_text("缴费成功")
    expect(page.locator(".record-time").first).to_have_text(beijing_minute(page))
    shot(page, "records")
    page.reload()
    page.locator(".record").first.click()
    expect(page.locator("#order-state")).to_have_text("缴费成功")
    page.goto(base + "/declarations")
    expect(page.locator(".declaration").first).to_contain_text("已缴纳")
    shot(page, "declarations")
    page.goto(base + "/certificates")
    page.locator("#issue-submit").click()
    expect(page.locator(".flash")).to_contain_text("已开具完税证明")
    shot(page, "certificate")
    with page.expect_download() as pdf_info:
        page.locator(".pdf-link").first.click()
    number = page.locator(".certificate").first.get_attribute("id").removeprefix("certificate-")
    text_of_pdf = subprocess.run(["pdftotext", pdf_info.value.path(), "-"], capture_output=True, text=True).stdout
    assert number in text_of_pdf
    with page.expect_download() as png_info:
        page.locator(".png-link").first.click()
    image = Image.open(png_info.value.path())
    assert image.format == "PNG" and image.width == 1080 and image.height > 400
    page.goto(base + "/statement")
    with page.expect_download() as sheet_info:
        page.locator("#statement-xlsx").click()
    rows = list(load_workbook(BytesIO(open(sheet_info.value.path(), "rb").read())).active.values)
    assert any(number_cell for row in rows for number_cell in row if isinstance(number_cell, str)
               and number_cell.startswith("3") and len(number_cell) == 20)  # an e-ticket number
    shot(page, "statement")


def error_pages(page: Page, world, channel: str, brand: str, other_insured_number: str) -> None:
    page.goto(world["ours"].url + f"/h5/{channel}/no-such-page")
    expect(page.locator("#error-message")).to_contain_text("页面不存在")
    expect(page.locator("#brand")).to_contain_text(brand)
    shot(page, "error-wrong-url")
    with world["app"].extensions["sbf"].engine.connect() as conn:
        eid = conn.execute(text("SELECT id FROM enrollment WHERE insured_number = :n"),
                           {"n": other_insured_number}).scalar_one()
    page.goto(world["ours"].url + f"/h5/{channel}/enrollments/{eid}/choose")
    expect(page.locator("#error-message")).to_be_visible()
    expect(page.locator("#brand")).to_contain_text(brand)
    shot(page, "error-another-persons-record")
    page.locator("#error-back").click()
    expect(page.locator("#modules")).to_be_visible()


def test_a_flexible_worker_pays_through_the_official_account_and_looks_back(world, page):
    zhang = demo("张伟", "pension")
    page.goto(world["ours"].url + "/")
    expect(page.locator("#entry-tax_app")).to_have_count(1)  # an entry for every channel configured
    shot(page, "landing")
    page.locator("#entry-wechat_oa").click()
    identify(page, zhang)
    page.locator("#module-choose").click()
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    choose_base(page, "5000")
    page.locator("#to-pay").click()
    declare_and_check_out(page)
    pay_in_popup_cashier(page)
    look_back(page, world, "wechat_oa")
    error_pages(page, world, "wechat_oa", "微信公众号", demo("李秀英", "pension")["insured_number"])


def test_a_guizhou_city_service_shows_its_region_and_function_list_and_keeps_to_it(world, page):
    wang, zhang = demo("王芳", "pension"), demo("张伟", "pension")
    page.goto(world["ours"].url + "/")
    page.locator("#entry-wechat_city").click()
    page.locator("#region-520000").click()
    expect(page.locator("#brand")).to_contain_text("贵州省")
    page.get_by_label("参保人姓名").fill(zhang["name"])  # a 青岛 person in the 贵州 service
    page.get_by_label("证件号码").fill(zhang["id_number"])
    page.locator("#identify-submit").click()
    expect(page.locator(".field-error")).to_contain_text("贵州省")
    shot(page, "other-region-refused")
    identify(page, wang)
    expect(page.locator("#modules .weui-cell__bd > p:first-child")).to_have_text(
        ["自主缴费", "代他人缴费", "社保费申报查询", "完税证明查询"])
    page.locator("#module-pay").click()
    page.locator(f"#enrollment-{wang['insured_number']}").click()
    page.locator("#to-choose").click()  # no grade yet: the declare page says so and links to choosing one
    page.locator("label[for^=grade-]").first.click()
    page.get_by_label("生效年月").fill(this_month(page))
    page.locator("#choose-submit").click()
    page.locator("#to-pay").click()
    declare_and_check_out(page)
    pay_in_popup_cashier(page)
    look_back(page, world, "wechat_city")
    error_pages(page, world, "wechat_city", "贵州省", demo("赵丽", "pension")["insured_number"])


def test_a_resident_pays_through_the_citizen_center_with_back_from_the_cashier_and_a_voiding(world, page):
    zhao = demo("赵丽", "medical")
    page.goto(world["ours"].url + "/")
    page.locator("#entry-alipay_citizen").click()
    identify(page, zhao)
    page.locator("#module-pay").click()
    page.locator(f"#enrollment-{zhao['insured_number']}").click()
    expect(page.locator(".weui-cell__bd").first).to_be_visible()
    declare_and_check_out(page)
    page.locator("#pay-submit").click()
    expect(page.get_by_role("button", name="确认支付")).to_be_visible()  # Alipay's wap cashier
    shot(page, "cashier")
    page.go_back()  # Back from the cashier: our checkout page again, never a resubmission
    expect(page.locator("#checkout-gone")).to_be_visible()
    shot(page, "back-from-cashier")
    page.go_forward()
    page.get_by_role("button", name="确认支付").click()
    page.get_by_role("link", name="返回商户").click()
    paid(page)
    look_back(page, world, "alipay_citizen")
    # 申报作废, with its confirmation: cancel once, then confirm
    base = world["ours"].url + "/h5/alipay_citizen"
    page.goto(base + "/menu")
    page.locator("#module-pay").click()
    page.locator(f"#enrollment-{demo('赵丽', 'pension')['insured_number']}").click()
    page.locator("#to-choose").click()
    page.locator("label[for^=grade-]").first.click()
    page.get_by_label("生效年月").fill(this_month(page))
    page.locator("#choose-submit").click()
    page.locator("#to-pay").click()
    page.locator("#declare-submit").click()
    page.goto(base + "/declarations")
    page.locator(".declaration", has_text="未支付").first.click()
    page.locator("#void-declaration").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    shot(page, "void-confirm")
    page.locator("#confirm-no").click()
    expect(page.locator("#declaration-state")).to_have_text("未支付")
    page.locator("#void-declaration").click()
    page.locator("#confirm-yes").click()
    expect(page.locator("#declaration-state")).to_have_text("已作废")
    shot(page, "voided")
    page.reload()
    expect(page.locator("#declaration-state")).to_have_text("已作废")
    error_pages(page, world, "alipay_citizen", "支付宝市民中心", demo("张伟", "pension")["insured_number"])


def test_yunshanfu_has_its_three_menus_and_pays_in_the_app_without_a_qr_code(world, page):
    li = demo("李秀英", "pension")
    page.goto(world["ours"].url + "/")
    page.locator("#entry-unionpay_app").click()
    identify(page, li)
    expect(page.locator("#modules .weui-cell__bd > p:first-child").first).to_have_text("社保（养老）自助缴费")
    page.locator("#module-pension").click()
    expect(page.locator("#module-pension_records")).to_contain_text("缴费明细查询")
    shot(page, "pension-menu")
    page.locator("#module-pension_choose").click()
    page.locator(f"#enrollment-{li['insured_number']}").click()
    choose_base(page, "4000")
    page.locator("#to-pay").click()
    declare_and_check_out(page)
    page.locator("#pay-submit").click()
    expect(page.locator("img.qr")).to_have_count(0)  # one's own screen cannot be scanned
    expect(page.locator("#open-cashier")).to_have_text("云闪付支付")
    shot(page, "pay-in-app")
    page.locator("#open-cashier").click()
    page.go_back()  # Back from the UnionPay payment: our page, still waiting
    expect(page.locator("#order-state")).to_be_visible()
    page.locator("#open-cashier").click()
    page.get_by_role("button", name="确认支付").click()
    page.locator("#cashier-return").click()
    paid(page)
    look_back(page, world, "unionpay_app")
    error_pages(page, world, "unionpay_app", "云闪付", demo("张伟", "medical")["insured_number"])


def test_elder_mode_is_one_switch_remembered_with_aa_contrast_and_large_targets_on_every_page(world, page):
    zhang = demo("张伟", "pension")
    base = world["ours"].url + "/h5/alipay_citizen"
    page.goto(base + "/identify")
    size = page.evaluate("getComputedStyle(document.querySelector('.weui-label')).fontSize")
    page.locator("#elder-toggle").click()  # a link: the page comes again with the mode on
    expect(page.locator("body")).to_have_class("elder")
    page.wait_for_load_state("load")  # the class is there before the stylesheet has been applied
    page.wait_for_function(
        "before => parseFloat(getComputedStyle(document.querySelector('.weui-label')).fontSize) > before",
        arg=float(size.rstrip("px")))
    checked = {"identify": elder_problems(page)}
    identify(page, zhang)
    with world["app"].extensions["sbf"].engine.connect() as conn:
        eid = conn.execute(text("SELECT id FROM enrollment WHERE insured_number = :n"),
                           {"n": zhang["insured_number"]}).scalar_one()
    for path in ("/menu", "/enrollments?module=choose", f"/enrollments/{eid}/choose", f"/enrollments/{eid}/declare",
                 "/unpaid", "/records", "/declarations", "/certificates", "/statement", "/contribution-record",
                 "/no-such-page"):
        page.goto(base + path)
        expect(page.locator("body")).to_have_class("elder")  # remembered on every page
        checked[path] = elder_problems(page)
    shot(page, "elder")
    problems = {path: found for path, found in checked.items() if found["low"] or found["small"]}
    assert problems == {}
