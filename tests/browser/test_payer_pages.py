"""The payer's pages in Debian's Chromium, driven by Playwright, paying at the sandbox cashiers.

Screenshots of every step go to test-artifacts/browser/. Chromium is launched by its path
(/usr/bin/chromium, or $CHROMIUM_PATH); Playwright never downloads a browser of its own.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import reset_state
from tests.served import served_world
from tests.timeline import wall_month

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
ROWS = json.loads((ROOT / "config" / "demo_people.json").read_text("utf-8"))["enrollments"]


def demo(name: str, insurance: str) -> dict:
    return next(r for r in ROWS if r["name"] == name and r["insurance"] == insurance)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory):
    with served_world(settings, tmp_path_factory.mktemp("sandbox-keys")) as world:
        yield world


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(world, browser, redis_client, request):
    reset_state(world["app"], redis_client)
    assert world["app"].test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN")
    page = context.new_page()
    page.shots = ARTIFACTS / request.node.name
    page.shots.mkdir(parents=True, exist_ok=True)
    page.step = 0
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    page.step += 1
    page.screenshot(path=str(page.shots / f"{page.step:02d}-{name}.png"), full_page=True)


def identify(page: Page, person: dict) -> None:
    page.get_by_label("参保人姓名").fill(person["name"])
    page.get_by_label("证件号码").fill(person["id_number"])
    shot(page, "identify")
    page.locator("#identify-submit").click()
    expect(page.locator("#module-pay")).to_be_visible()
    shot(page, "menu")


def test_a_flexible_worker_pays_two_months_through_the_wechat_entry(world, page):
    zhang = demo("张伟", "pension")
    page.goto(world["ours"].url + "/")
    shot(page, "landing")
    page.locator("#entry-wechat_oa").click()
    identify(page, zhang)
    page.locator("#module-choose").click()
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    page.get_by_label("缴费基数（元/月）").fill("5000")
    expect(page.locator("#preview")).to_contain_text("1000.00")  # the live preview: 5000 × 20%
    page.get_by_label("生效年月").fill(_months_back(2))
    shot(page, "base-chosen")
    page.locator("#choose-submit").click()
    expect(page.locator(".flash")).to_contain_text("已确认")
    page.goto(world["ours"].url + "/h5/wechat_oa/menu")
    page.locator("#module-pay").click()
    page.locator(f"#enrollment-{zhang['insured_number']}").click()
    page.locator(f"label[for=period-{_months_back(1)}]").click()  # last month (补缴); this month is checked already
    shot(page, "declare")
    page.locator("#declare-submit").click()
    expect(page.locator("input[name=assessment_ids]:checked")).to_have_count(2)
    shot(page, "check-amount")
    page.locator("#checkout-submit").click()
    expect(page.locator("#order-total")).to_have_text("2000.00 元")
    shot(page, "check-order")
    page.locator("#pay-submit").click()
    with page.expect_popup() as popup_info:
        page.locator("#open-cashier").click()
    cashier = popup_info.value
    cashier.get_by_role("button", name="确认支付").click()
    cashier.close()
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=15000)
    shot(page, "paid")
    page.locator("#to-records").click()
    expect(page.locator(".record")).to_have_count(1)
    expect(page.locator(".record").first).to_contain_text("缴费成功")
    shot(page, "records")


def test_a_resident_pays_a_year_through_the_alipay_entry(world, page):
    zhao = medical = demo("赵丽", "medical")
    page.goto(world["ours"].url + "/")
    page.locator("#entry-alipay_citizen").click()
    identify(page, zhao)
    page.locator("#module-pay").click()
    page.locator(f"#enrollment-{medical['insured_number']}").click()
    expect(page.locator("input[name=periods]").last).to_be_checked()  # the coming year: its window is open
    shot(page, "declare")
    page.locator("#declare-submit").click()
    page.locator("#checkout-submit").click()
    expect(page.locator("#order-total")).to_contain_text("元")
    shot(page, "check-order")
    page.locator("#pay-submit").click()
    expect(page.get_by_role("button", name="确认支付")).to_be_visible()  # Alipay's wap cashier
    shot(page, "cashier")
    page.get_by_role("button", name="确认支付").click()
    page.get_by_role("link", name="返回商户").click()
    expect(page.locator("#order-state")).to_have_text("缴费成功", timeout=15000)
    shot(page, "paid")
    page.locator("#to-records").click()
    expect(page.locator(".record").first).to_contain_text("缴费成功")
    shot(page, "records")


def test_a_wrong_check_digit_is_shown_beside_the_number(world, page):
    zhang = demo("张伟", "pension")
    page.goto(world["ours"].url + "/h5/alipay_citizen/")
    page.get_by_label("参保人姓名").fill(zhang["name"])
    wrong = zhang["id_number"][:-1] + ("0" if zhang["id_number"][-1] != "0" else "1")
    page.get_by_label("证件号码").fill(wrong)
    page.locator("#identify-submit").click()
    expect(page.locator("#id_number-error")).to_contain_text("校验码")
    expect(page.get_by_label("证件号码")).to_have_value(wrong)
    shot(page, "check-digit-error")


def test_elder_mode_is_one_switch_and_is_remembered(world, page):
    page.goto(world["ours"].url + "/h5/etax_web/")
    size = page.evaluate("getComputedStyle(document.querySelector('.weui-label')).fontSize")
    page.locator("#elder-toggle").click()
    expect(page.locator("body")).to_have_class(re.compile("elder"))
    bigger = page.evaluate("getComputedStyle(document.querySelector('.weui-label')).fontSize")
    assert float(bigger.rstrip("px")) > float(size.rstrip("px"))
    shot(page, "elder")
    page.goto(world["ours"].url + "/h5/tax_app/")  # another page, the same choice
    expect(page.locator("body")).to_have_class(re.compile("elder"))


def _months_back(n: int) -> str:


    return wall_month(n)
