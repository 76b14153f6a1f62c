"""The web e-tax bureau (seed 000) behind the account sign-in: 扫码登录 confirmed by the tax app's session,
the risk notice, base confirmation that brings the fees due, QR payment, status, statement request, certificates."""
from __future__ import annotations

import re

import pytest

from tests.accounts.support import ZHANG, phone_of_record, register
from tests.accounts.test_pages import csrf, sign_in


@pytest.fixture
def zhang(app, client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    phone = phone_of_record(app, ZHANG)
    register(client, ZHANG, "zhangwei", phone)
    return phone


def qr_sign_in(app, web, phone):
    """The web page shows a QR; the tax app (another browser, signed in) opens it and confirms."""
    page = web.get("/accounts/qr-login").get_data(as_text=True)
    confirm_url = re.search(r'data-confirm-url="([^"]+)"', page).group(1)
    qr_id = confirm_url.rsplit("/", 1)[1]
    assert web.get(f"/accounts/qr-login/{qr_id}/state").json == {"state": "waiting"}
    tax_app = app.test_client()
    sign_in(tax_app, "zhangwei", phone)
    form = tax_app.get(f"/accounts/qr/{qr_id}")
    assert tax_app.post(f"/accounts/qr/{qr_id}", data={"csrf_token": csrf(form)}).status_code == 200
    assert web.get(f"/accounts/qr-login/{qr_id}/state").json == {"state": "confirmed"}
    done = web.get(f"/accounts/qr-login/{qr_id}/finish")
    assert done.status_code == 302 and done.location.endswith("/etax/me")
    assert web.get(f"/accounts/qr-login/{qr_id}/finish").location.endswith("/accounts/qr-login")  # once


def test_the_etax_pages_need_a_signed_in_account(client):
    answer = client.get("/etax/declare")
    assert answer.status_code == 302 and "/accounts/login?channel=etax_web&next=/etax/declare" in answer.location


def test_a_qr_confirmed_by_someone_not_signed_in_confirms_nothing(app, client, zhang):
    page = client.get("/accounts/qr-login").get_data(as_text=True)
    qr_id = re.search(r'data-confirm-url="[^"]+/([^"/]+)"', page).group(1)
    stranger = app.test_client()
    assert stranger.get(f"/accounts/qr/{qr_id}").location.endswith("/accounts/login")
    assert client.get(f"/accounts/qr-login/{qr_id}/state").json == {"state": "waiting"}


def test_qr_sign_in_then_declare_pay_by_qr_and_download_the_statement(app, client, zhang):
    qr_sign_in(app, client, zhang)
    assert "370200000001" in client.get("/etax/me").get_data(as_text=True)
    page = client.get("/etax/declare")
    assert "业务介绍及风险提示" in page.get_data(as_text=True)
    client.post("/etax/declare", data={"csrf_token": csrf(page)})
    page = client.get("/etax/declare")
    eid = re.search(r'action="/etax/declare/(\d+)/base"', page.get_data(as_text=True)).group(1)
    client.post(f"/etax/declare/{eid}/base", data={"csrf_token": csrf(page), "scheme": "base", "base_yuan": "3980",
                                                   "effective_month": "2026-11"})
    page = client.get("/etax/declare").get_data(as_text=True)
    assert "基数确认成功，已生成本期欠费信息" in page and "2026-11" in page
    ids = re.findall(r'name="assessment_ids" value="(\d+)"', page)
    checkout = client.post("/etax/checkout", data={"csrf_token": csrf(client.get("/etax/declare")),
                                                   "assessment_ids": ids[:1]}).get_data(as_text=True)
    total = re.search(r'name="confirmed_amount_fen" value="(\d+)"', checkout).group(1)
    assert total == "79600"  # 3980 × 20%
    assert re.findall(r'name="method" value="([a-z.]+)"', checkout) == []  # the fake provider offers no QR of ours
    refused = client.post("/etax/orders", data={"csrf_token": re.search(r'csrf_token" value="([^"]+)', checkout)
                                                .group(1), "assessment_ids": ids[:1], "confirmed_amount_fen": total,
                                                "method": "fake.qr"})
    assert refused.status_code == 302 and refused.location.endswith("/etax/declare")
    status = client.get(f"/etax/status?query=1&tab=unpaid&enrollment_id={eid}").get_data(as_text=True)
    assert "未支付" in status
    page = client.get("/etax/statements")
    assert client.post("/etax/statements", data={"csrf_token": csrf(page), "start": "2026-01-01",
                                                  "end": "2026-11-30"}).status_code == 302
    listed = client.get("/etax/statements").get_data(as_text=True)
    assert "已完成" in listed
    link = re.search(r'href="(/etax/statements/[0-9a-f]+\.xlsx)"', listed).group(1)
    xlsx = client.get(link)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_every_etax_form_refuses_a_post_without_its_csrf_token(app, client, zhang):
    qr_sign_in(app, client, zhang)
    for path in ("/etax/declare", "/etax/declare/1/base", "/etax/checkout", "/etax/orders", "/etax/statements",
                 "/etax/certificates"):
        assert client.post(path, data={"action": "issue"}).status_code == 400, path


def test_certificates_are_issued_and_reissued_once_the_money_is_in_the_treasury(app, client, clock, zhang):
    from datetime import timedelta

    from app.services import declarations, enrollments, orders

    c = app.extensions["sbf"]
    with c.uow() as uow:
        person_id = uow.persons.find_by_document("resident_id", ZHANG["id_number"]).id
    eid = enrollments.list_enrollments(person_id, c.uow())[0]["id"]
    enrollments.choose_contribution(person_id, eid, c.uow(), c.policies, c.clock, base_fen=398000,
                                    effective_month="2026-11")
    declared = declarations.declare_periods(person_id, eid, ["2026-11"], c.uow(), c.policies, c.clock, c.notices)
    order = orders.create_order(orders.NewOrder([person_id], [a["id"] for a in declared["assessments"]], "api",
                                                "fake.qr", declared["total_fen"]), c.uow(), c.payments)
    paid = c.providers["fake"].pay(order["order_no"])
    assert client.post("/api/v1/notify/fake", data=paid.body, headers=dict(paid.headers),
                       content_type="application/json").status_code == 200
    qr_sign_in(app, client, zhang)
    page = client.get("/etax/certificates")
    early = client.post("/etax/certificates", data={"csrf_token": csrf(page), "action": "issue",
                                                    "period_start": "2026-11", "period_end": "2026-11"})
    assert "完税证明须在费款入库后开具" in early.get_data(as_text=True)
    clock.set(clock.now() + timedelta(days=7))
    client = app.test_client()  # a week later: the session is long over, sign in again
    qr_sign_in(app, client, zhang)
    page = client.get("/etax/certificates")
    issued = client.post("/etax/certificates", data={"csrf_token": csrf(page), "action": "issue",
                                                     "period_start": "2026-11", "period_end": "2026-11"})
    number = re.search(r"已开具 (\w+)", issued.get_data(as_text=True)).group(1)
    assert client.get(f"/etax/certificates/{number}.pdf").data[:4] == b"%PDF"
    found = client.get("/etax/certificates?find=1").get_data(as_text=True)
    assert number in found
    again = client.post("/etax/certificates", data={"csrf_token": csrf(page), "action": "reissue",
                                                    "certificate_no": number}).get_data(as_text=True)
    assert "（补开）" in again
