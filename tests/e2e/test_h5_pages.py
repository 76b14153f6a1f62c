"""The payer's pages over the Flask test client: Beijing time at a clock near midnight UTC, look-back
pages, post/redirect/get, and errors as pages in the channel's look.

The channel's authorization is taken as done (its session keys are set as the callback sets them);
the browser tests go through the real authorization at the identity sandboxes.
"""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone

import pytest

from app.adapters.clock import FixedClock

CHANNEL = "alipay_citizen"
ZHANG = {"name": "张伟", "id_type": "resident_id", "id_number": "370202198503150013"}
LI = {"name": "李秀英", "id_type": "resident_id", "id_number": "370203197811020247"}
NEAR_MIDNIGHT_UTC = datetime(2026, 11, 23, 23, 40, tzinfo=timezone.utc)  # 2026-11-24 07:40 in Beijing


@pytest.fixture
def clock():
    return FixedClock(NEAR_MIDNIGHT_UTC)


@pytest.fixture
def app(settings, database, redis_client, clock):
    from app.factory import create_app
    from payments.fake.provider import FakeProvider
    from tests.conftest import reset_state

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], CHANNEL: ["fake.qr"], "api": ["fake.qr"]}
    app = create_app(dict(settings, CHANNEL_PAYMENT_METHODS=methods, TREASURY_DELAY_WORKING_DAYS=0), clock=clock,
                     providers={"fake": FakeProvider()})
    reset_state(app, redis_client)
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    yield app
    app.extensions["sbf"].engine.dispose()


@pytest.fixture
def browser(app):
    client = app.test_client()
    with client.session_transaction() as s:  # as the channel's authorization callback leaves it
        s.update(channel=CHANNEL, channel_user="2088000000000001", channel_token="t", payer_ref=None)
    return client


def csrf(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def identify(client, person: dict, proxy: bool = False):
    page = client.get(f"/h5/{CHANNEL}/identify" + ("?proxy=1" if proxy else ""))
    return client.post(f"/h5/{CHANNEL}/identify" + ("?proxy=1" if proxy else ""),
                       data={**person, "csrf_token": csrf(page.data)})


def pay_this_month(client, app) -> str:
    """Choose a base from this month, declare it, check out and pay with the fake provider: the order number."""
    eid = re.search(rb'/enrollments/(\d+)/choose', client.get(f"/h5/{CHANNEL}/enrollments?module=choose").data)
    eid = int(eid.group(1))
    page = client.get(f"/h5/{CHANNEL}/enrollments/{eid}/choose")
    chosen = client.post(f"/h5/{CHANNEL}/enrollments/{eid}/choose",
                         data={"base_yuan": "5000", "effective_month": "2026-11", "csrf_token": csrf(page.data)})
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith(f"/enrollments/{eid}/chosen")
    page = client.get(f"/h5/{CHANNEL}/enrollments/{eid}/declare")
    declared = client.post(f"/h5/{CHANNEL}/enrollments/{eid}/declare",
                           data={"periods": ["2026-11"], "csrf_token": csrf(page.data)})
    assert declared.status_code == 302
    unpaid = client.get(declared.headers["Location"]).data.decode()
    ids = re.findall(r'name="assessment_ids" value="(\d+)"', unpaid)
    checkout = client.get(f"/h5/{CHANNEL}/checkout", query_string={"assessment_ids": ids})
    assert checkout.status_code == 200 and "2-5个工作日按原渠道退还" in checkout.data.decode()
    ordered = client.post(f"/h5/{CHANNEL}/orders", data={"assessment_ids": ids, "method": "fake.qr",
                                                          "confirmed_amount_fen": 100000,
                                                          "csrf_token": csrf(checkout.data)})
    assert ordered.status_code == 302, ordered.data.decode()
    order_no = ordered.headers["Location"].rsplit("/", 1)[-1]
    incoming = app.extensions["sbf"].providers["fake"].pay(order_no)
    answer = app.test_client().post("/api/v1/notify/fake", data=incoming.body, headers=dict(incoming.headers),
                                    content_type="application/json")
    assert answer.status_code == 200
    return order_no


def test_a_payment_just_before_midnight_utc_shows_its_beijing_time_everywhere(app, browser):
    assert identify(browser, ZHANG).status_code == 302
    order_no = pay_this_month(browser, app)
    records = browser.get(f"/h5/{CHANNEL}/records").data.decode()
    assert "2026-11-24 07:40" in records and "2026-11-23 23:40" not in records
    assert "缴费成功" in browser.get(f"/h5/orders/{order_no}").data.decode()
    api = app.test_client().get("/api/v1/orders", headers={"X-Session-Token": _token(browser)})
    assert [o["created_at"] for o in api.json if o["order_no"] == order_no] == ["2026-11-24T07:40:00+08:00"]


def test_checkout_is_a_page_that_back_and_reload_can_show_again(app, browser):
    identify(browser, ZHANG)
    order_no = pay_this_month(browser, app)
    ids = [a for a in re.findall(r"a-(\d+)", browser.get(f"/h5/{CHANNEL}/unpaid").data.decode())]
    assert ids == []
    again = browser.get(f"/h5/{CHANNEL}/checkout", query_string={"assessment_ids": ["1"]})
    assert again.status_code == 200 and "已在支付中或已缴纳" in again.data.decode()
    assert browser.get(f"/h5/orders/{order_no}").status_code == 200  # reload of the result


def test_look_back_pages_issue_download_and_void(app, browser):
    identify(browser, ZHANG)
    pay_this_month(browser, app)
    page = browser.get(f"/h5/{CHANNEL}/certificates")
    issued = browser.post(f"/h5/{CHANNEL}/certificates", data={"for": "self", "period_start": "2026-01",
                                                               "period_end": "2026-12", "csrf_token": csrf(page.data)})
    assert issued.status_code == 302
    listing = browser.get(f"/h5/{CHANNEL}/certificates").data.decode()
    assert "已开具完税证明" in listing, re.findall(r'class="flash[^"]*"[^>]*>([^<]+)', listing)
    number = re.search(r'id="certificate-(\d+)"', listing).group(1)
    pdf = browser.get(f"/h5/{CHANNEL}/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    png = browser.get(f"/h5/{CHANNEL}/certificates/{number}.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    reissued = browser.post(f"/h5/{CHANNEL}/certificates/{number}/reissue", data={"csrf_token": csrf(page.data)})
    listing = browser.get(reissued.headers["Location"]).data.decode()
    assert "已补开完税证明" in listing and "补开" in listing
    ticket = re.search(r"电子税票号码 (\d{20})", browser.get(f"/h5/{CHANNEL}/statement").data.decode()).group(1)
    found = browser.get(f"/h5/{CHANNEL}/certificates", query_string={
        "issued_from": "2026-11-24", "issued_to": "2026-11-24", "e_ticket_number": ticket}).data.decode()
    assert len(re.findall(r'class="weui-cell certificate"', found)) == 2  # the original and its re-issue
    nothing = browser.get(f"/h5/{CHANNEL}/certificates", query_string={"e_ticket_number": "39999999999999999999"})
    assert 'class="weui-cell certificate"' not in nothing.data.decode()
    sheet = browser.get(f"/h5/{CHANNEL}/statement.xlsx?start=2026-11&end=2026-11")
    assert sheet.status_code == 200 and sheet.data.startswith(b"PK")
    statement = browser.get(f"/h5/{CHANNEL}/statement?start=2026-11&end=2026-11").data.decode()
    assert "合计 1 笔" in statement
    record = browser.get(f"/h5/{CHANNEL}/contribution-record.png")
    assert record.status_code == 200 and record.data.startswith(b"\x89PNG")
    declarations = browser.get(f"/h5/{CHANNEL}/declarations").data.decode()
    notice = re.search(r'id="declaration-(\d+)"', declarations).group(1)
    paid = browser.get(f"/h5/{CHANNEL}/declarations/{notice}").data.decode()
    assert "已缴纳" in paid and "void-declaration" not in paid  # no 作废 once paid


def test_the_treasury_wait_is_shown_with_the_day_a_certificate_can_be_issued(app, browser):
    container = app.extensions["sbf"]
    container.certificates = dataclasses.replace(container.certificates, treasury_delay_working_days=3)
    identify(browser, ZHANG)
    pay_this_month(browser, app)  # posted on Tuesday 2026-11-24 (Beijing)
    page = browser.get(f"/h5/{CHANNEL}/certificates")
    browser.post(f"/h5/{CHANNEL}/certificates", data={"for": "self", "period_start": "2026-01",
                                                      "period_end": "2026-12", "csrf_token": csrf(page.data)})
    shown = browser.get(f"/h5/{CHANNEL}/certificates").data.decode()
    assert "2026年11月27日" in shown  # three working days later


def test_errors_on_pages_are_pages_in_the_channels_look_with_a_way_back(app, browser):
    missing = browser.get(f"/h5/{CHANNEL}/no-such-page")
    assert missing.status_code == 404 and b"<html" in missing.data and "支付宝市民中心" in missing.data.decode()
    assert 'id="error-back"' in missing.data.decode()
    identify(browser, ZHANG)
    other = app.test_client()
    with other.session_transaction() as s:
        s.update(channel=CHANNEL, channel_user="2088000000000002")
    identify(other, LI)
    theirs = other.get(f"/h5/{CHANNEL}/enrollments?module=choose").data.decode()
    eid = re.search(r"/enrollments/(\d+)/choose", theirs).group(1)
    refused = browser.get(f"/h5/{CHANNEL}/enrollments/{eid}/choose")
    assert refused.status_code == 404 and "text/html" in refused.content_type
    assert "返回首页" in refused.data.decode()
    unknown_channel = browser.get("/h5/etax_web/")
    assert unknown_channel.status_code == 404 and "text/html" in unknown_channel.content_type
    no_city = app.test_client().get("/channels/wechat_city/start")  # a city service entered without a city
    assert no_city.status_code == 400 and "请先选择所在城市" in no_city.data.decode()
    assert "text/html" in no_city.content_type
    api = app.test_client().get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["code"] == "not_found"  # the API keeps its JSON


def test_paying_for_a_relative_asks_for_the_payers_details_and_marks_them(app, browser):
    identify(browser, ZHANG)
    form = browser.get(f"/h5/{CHANNEL}/identify?proxy=1").data.decode()
    assert "缴费人信息" in form and "您正在为他人缴费" in form
    answer = identify(browser, LI, proxy=True)
    assert answer.status_code == 302 and "/enrollments?module=pay" in answer.headers["Location"]
    assert "代缴" in browser.get(f"/h5/{CHANNEL}/menu").data.decode()


def test_an_order_cancelled_from_its_page_frees_its_periods_to_pay_again(app, browser):
    identify(browser, ZHANG)
    eid = int(re.search(rb"/enrollments/(\d+)/choose", browser.get(f"/h5/{CHANNEL}/enrollments?module=choose").data)
              .group(1))
    page = browser.get(f"/h5/{CHANNEL}/enrollments/{eid}/choose")
    browser.post(f"/h5/{CHANNEL}/enrollments/{eid}/choose", data={"base_yuan": "5000", "effective_month": "2026-11",
                                                                  "csrf_token": csrf(page.data)})
    page = browser.get(f"/h5/{CHANNEL}/enrollments/{eid}/declare")
    browser.post(f"/h5/{CHANNEL}/enrollments/{eid}/declare", data={"periods": ["2026-11"], "csrf_token": csrf(page.data)})
    ids = re.findall(r'name="assessment_ids" value="(\d+)"', browser.get(f"/h5/{CHANNEL}/unpaid").data.decode())
    checkout = browser.get(f"/h5/{CHANNEL}/checkout", query_string={"assessment_ids": ids})
    ordered = browser.post(f"/h5/{CHANNEL}/orders", data={"assessment_ids": ids, "method": "fake.qr",
                                                          "confirmed_amount_fen": 100000, "csrf_token": csrf(checkout.data)})
    order_page = browser.get(ordered.headers["Location"]).data.decode()
    assert 'data-confirm="确定取消该订单吗' in order_page  # the page asks before cancelling
    order_no = ordered.headers["Location"].rsplit("/", 1)[-1]
    cancelled = browser.post(f"/h5/orders/{order_no}/cancel", data={"csrf_token": csrf(order_page.encode())})
    assert cancelled.status_code == 302 and "订单已取消" in browser.get(cancelled.headers["Location"]).data.decode()
    assert re.findall(r'name="assessment_ids" value="(\d+)"', browser.get(f"/h5/{CHANNEL}/unpaid").data.decode()) == ids


def test_failed_identifications_say_how_long_to_wait(app, browser):
    wrong = {**ZHANG, "name": "张三"}
    answers = [identify(browser, wrong) for _ in range(6)]
    assert answers[0].status_code == 404 and answers[-1].status_code == 429
    assert "请于10分钟后再试" in answers[-1].data.decode()


def test_the_public_verify_page_says_what_is_missing_on_an_empty_submit(app):
    client = app.test_client()
    assert "请输入" not in client.get("/verify").data.decode()
    empty = client.post("/verify", data={"e_ticket_number": "", "id_number": ""})
    assert empty.status_code == 400 and "请输入证明号码和查验码，或输入电子税票号码" in empty.data.decode()


def _token(client) -> str:
    with client.session_transaction() as s:
        return s["current"]
