"""The back office in Chromium, at a desktop size: a staff member signs in with the password and the
authenticator's code; a debit that came after its order had closed appears among the exceptions and
is resolved there with a note; the collections report shows its chart and downloads as xlsx.

The money comes through the services in-process (the tests' "provider said SUCCESS"): what is tested
here is what the bureau's staff see and do. Screenshots go to test-artifacts/browser/.
"""
from __future__ import annotations

import re

import pyotp
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from app.domain.periods import SHANGHAI, Month
from app.services import declarations, enrollments, orders, settlement
from payments.base import ResultState, TradeResult
from tests.backoffice.support import PASSWORD, create_staff
from tests.browser.accessibility import elder_problems
from tests.browser.conftest import shot
from tests.browser.test_payer_pages import demo


@pytest.fixture
def desk(world, browser, redis_client, request, browser_clock):
    """A desktop browser on the back office, over a fresh database with the demo people."""
    from tests.browser.conftest import ARTIFACTS, next_2340_utc
    from tests.conftest import reset_state
    from tests.timeline import wall_now

    browser_clock.set(next_2340_utc(wall_now()))
    reset_state(world["app"], redis_client)
    assert world["app"].test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.shots = ARTIFACTS / request.node.name
    page.shots.mkdir(parents=True, exist_ok=True)
    page.step = 0
    yield page
    context.close()


def _declared(world, clock) -> tuple[int, list[int]]:
    """张伟 chooses a base of 5000 元 and declares this month and the two before: three assessments."""
    c = world["app"].extensions["sbf"]
    zhang = demo("张伟", "pension")
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", zhang["id_number"])
        enrollment = next(e for e in uow.enrollments.list_for_person(person.id) if e.insurance == "pension")
    month = Month.of(clock.now().astimezone(SHANGHAI).date())
    months = [str(month.plus(-2)), str(month.plus(-1)), str(month)]
    enrollments.choose_contribution(person.id, enrollment.id, c.uow(), c.policies, c.clock, base_fen=500000,
                                    effective_month=months[0])
    result = declarations.declare_periods(person.id, enrollment.id, months, c.uow(), c.policies, c.clock, c.notices)
    return person.id, [a["id"] for a in result["assessments"]]


def _debited(world, order: dict) -> str:
    c = world["app"].extensions["sbf"]
    trade = TradeResult(ResultState.SUCCESS, order["order_no"], amount_fen=order["amount_fen"],
                        provider_trade_no="4200000000" + order["order_no"][-10:], provider_state="SUCCESS")
    return settlement.settle_success("wechatpay", trade, c.uow(), c.payments, source="query")


def _order(world, person_id: int, ids: list[int]) -> dict:
    c = world["app"].extensions["sbf"]
    amount = sum(a.amount_fen for a in _assessments(c, ids))
    return orders.create_order(orders.NewOrder(person_ids=[person_id], assessment_ids=ids, channel="api",
                                               method="wechatpay.native", confirmed_amount_fen=amount),
                               c.uow(), c.payments)


def _assessments(c, ids):
    with c.uow() as uow:
        return uow.assessments.get_many(ids)


def check_page(page) -> None:
    """Every heading-to-form path is labelled (get_by_label finds them); here: text contrast at WCAG AA."""
    assert elder_problems(page)["low"] == []


def sign_in(page, world, username: str, secret: str, clock) -> None:
    page.goto(world["ours"].url + "/backoffice")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    shot(page, "login")
    page.locator("#login-submit").click()
    page.get_by_label("动态验证码").fill("000000" if pyotp.TOTP(secret).at(clock.now()) != "000000" else "111111")
    page.locator("#verify-submit").click()
    expect(page.locator("#code-error")).to_contain_text("动态验证码错误")  # a wrong code first
    page.get_by_label("动态验证码").fill(pyotp.TOTP(secret).at(clock.now()))
    shot(page, "second-factor")
    page.locator("#verify-submit").click()
    expect(page.get_by_role("heading", name="首页")).to_be_visible()


def test_a_debit_after_its_order_closed_is_resolved_in_the_back_office(world, desk, browser_clock):
    page, clock = desk, browser_clock
    person_id, ids = _declared(world, clock)
    late = _order(world, person_id, ids[:1])
    c = world["app"].extensions["sbf"]
    orders.cancel_order(late["order_no"], [person_id], c.uow(), c.payments)  # the payer gave up ...
    assert _debited(world, late) == "refunding"  # ... and was debited anyway: the money goes back
    secret = create_staff(world["app"].test_cli_runner(), "wang.cai", "finance", name="王财")
    sign_in(page, world, "wang.cai", secret, clock)
    expect(page.locator("#roles")).to_have_text("财务")
    check_page(page)
    page.get_by_role("navigation", name="后台导航").get_by_role("link", name="异常处理").click()
    table = page.locator("#debited-unposted")
    expect(table).to_contain_text(late["order_no"])
    expect(table).to_contain_text("订单已关闭后扣款")
    shot(page, "exceptions")
    check_page(page)
    table.get_by_role("link", name=late["order_no"]).click()
    expect(page.locator("#order-state")).to_contain_text("扣款成功但缴费失败")
    expect(page.locator("#calls")).to_contain_text("refund")
    page.locator("#requery").click()
    expect(page.locator("[role=status]")).to_contain_text("已发起查询")
    page.get_by_label("处理说明").fill("已电话联系缴费人，款项原路退回，无需再缴")
    shot(page, "evidence")
    page.locator("#resolve-order").click()
    expect(page.locator("[role=status]")).to_contain_text("已标记为已处理")
    expect(page.locator("#debited-unposted")).not_to_contain_text(late["order_no"])
    shot(page, "resolved")
    page.get_by_role("navigation", name="后台导航").get_by_role("link", name="操作日志").click()
    expect(page.locator("#actions tbody tr").first).to_contain_text("exception.resolve")
    expect(page.locator("#actions tbody tr").first).to_contain_text("已电话联系缴费人")


def test_the_collections_report_renders_a_chart_and_downloads_as_xlsx(world, desk, browser_clock, tmp_path):
    page, clock = desk, browser_clock
    person_id, ids = _declared(world, clock)
    paid = _order(world, person_id, ids)
    assert _debited(world, paid) == "posted"
    secret = create_staff(world["app"].test_cli_runner(), "zhao.ji", "audit", name="赵稽")
    sign_in(page, world, "zhao.ji", secret, clock)
    page.get_by_role("navigation", name="后台导航").get_by_role("link", name="统计报表").click()
    expect(page.get_by_role("heading", name="征收统计")).to_be_visible()
    page.get_by_label("统计维度").select_option("insurance")
    page.locator("#report-submit").click()
    expect(page.locator("#chart svg")).to_be_visible()
    expect(page.locator("#chart svg")).to_contain_text("基本养老保险")
    expect(page.locator("#report tbody")).to_contain_text("基本养老保险")
    expect(page.locator("#report tfoot")).to_contain_text(re.compile(r"3\s*3000\.00"))
    shot(page, "report")
    check_page(page)
    with page.expect_download() as download:
        page.locator("#download-xlsx").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.endswith(".xlsx")
    sheet = load_workbook(path).active
    assert [cell.value for cell in sheet[1]] == ["险种", "笔数", "金额（元）"]
    assert [cell.value for cell in sheet[2]] == ["基本养老保险", 3, 3000.0]
