"""Exceptions resolved in the back office, the collections report, and what each role may do (PostgreSQL)."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.services import backoffice_staff, orders
from tests.backoffice.support import create_staff, csrf, sign_in
from tests.integration.test_orders import create, declared, notify  # noqa: F401 (fixture)


@pytest.fixture
def closed_then_debited(container, declared):
    """An order cancelled by the payer, then debited anyway: the money goes back, an operator looks at it."""
    person_id, ids = declared
    first = create(container, person_id, ids)
    orders.cancel_order(first["order_no"], [person_id], container.uow(), container.payments)
    fake = container.providers["fake"]
    fake.trades[first["order_no"]].state = "NOTPAY"
    notify(container, "fake", fake.pay(first["order_no"]))
    return first["order_no"]


def signed_in(app, runner, clock, username, *roles):
    client = app.test_client()
    sign_in(client, username, create_staff(runner, username, *roles), clock)
    return client


def test_a_debit_on_a_closed_order_is_an_exception_finance_resolves_with_a_note(app, runner, clock, container,
                                                                                closed_then_debited):
    order_no = closed_then_debited
    finance = signed_in(app, runner, clock, "wang.cai", "finance")
    page = finance.get("/backoffice/exceptions").get_data(as_text=True)
    assert order_no in page and "订单已关闭后扣款" in page
    evidence = finance.get(f"/backoffice/exceptions/orders/{order_no}").get_data(as_text=True)
    assert "扣款成功但缴费失败" in evidence and "refund" in evidence  # the refund call is part of the evidence
    answer = finance.post(f"/backoffice/exceptions/orders/{order_no}/requery", data={"csrf_token": csrf(finance)})
    assert answer.status_code == 302
    answer = finance.post(f"/backoffice/exceptions/debited_unposted/{order_no}/resolve",
                          data={"csrf_token": csrf(finance), "note": "已电话告知缴费人，款项原路退回"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert order_no not in finance.get("/backoffice/exceptions").get_data(as_text=True)
    again = finance.post(f"/backoffice/exceptions/debited_unposted/{order_no}/resolve",
                         data={"csrf_token": csrf(finance), "note": "再次处理"})
    assert again.status_code == 409 and "该异常已处理" in again.get_data(as_text=True)
    logged = backoffice_staff.list_actions(container.backoffice, actor="wang.cai")
    assert [(a.action, a.outcome) for a in logged][:4] == [
        ("backoffice_exceptions.resolve", "failed"), ("exception.resolve", "done"), ("exception.requery", "done"),
        ("staff.sign_in", "done")]
    assert logged[1].target == f"debited_unposted:{order_no}" and logged[1].reason.startswith("已电话告知")


def test_the_read_only_auditor_sees_exceptions_but_cannot_resolve_them(app, runner, clock, container,
                                                                       closed_then_debited):
    order_no = closed_then_debited
    auditor = signed_in(app, runner, clock, "zhao.ji", "audit")
    page = auditor.get(f"/backoffice/exceptions/orders/{order_no}").get_data(as_text=True)
    assert order_no in page and "标记已处理" not in page
    answer = auditor.post(f"/backoffice/exceptions/debited_unposted/{order_no}/resolve",
                          data={"csrf_token": csrf(auditor), "note": "稽核想处理"})
    assert answer.status_code == 403 and "财务" in answer.get_data(as_text=True)
    assert order_no in auditor.get("/backoffice/exceptions").get_data(as_text=True)  # still open
    denied = backoffice_staff.list_actions(container.backoffice, actor="zhao.ji")[0]
    assert denied.outcome == "denied" and denied.action.startswith("denied:")


def test_a_forged_action_without_csrf_token_changes_nothing(app, runner, clock, closed_then_debited):
    order_no = closed_then_debited
    finance = signed_in(app, runner, clock, "wang.cai", "finance")
    answer = finance.post(f"/backoffice/exceptions/debited_unposted/{order_no}/resolve", data={"note": "伪造请求"})
    assert answer.status_code == 400
    assert order_no in finance.get("/backoffice/exceptions").get_data(as_text=True)


def test_a_session_whose_finance_role_was_taken_cannot_act(app, runner, clock, closed_then_debited):
    order_no = closed_then_debited
    finance = signed_in(app, runner, clock, "wang.cai", "finance", "accept")
    runner.invoke(args=["staff", "change", "wang.cai", "--revoke", "finance", "--reason", "调离财务岗"])
    answer = finance.post(f"/backoffice/exceptions/debited_unposted/{order_no}/resolve",
                          data={"csrf_token": csrf(finance), "note": "离岗后操作"})
    assert answer.status_code == 302 and "/backoffice/login" in answer.headers["Location"]
    again = signed_in(app, runner, clock, "li.shou", "accept")  # and one who never had it is refused
    assert again.post(f"/backoffice/exceptions/debited_unposted/{order_no}/resolve",
                      data={"csrf_token": csrf(again), "note": "受理岗操作"}).status_code == 403


def test_resolving_an_unknown_exception_is_not_found(app, runner, clock):
    finance = signed_in(app, runner, clock, "wang.cai", "finance")
    answer = finance.post("/backoffice/exceptions/debited_unposted/NOPE/resolve",
                          data={"csrf_token": csrf(finance), "note": "没有这个"})
    assert answer.status_code == 404


def test_collections_report_shows_a_chart_and_downloads_as_xlsx(app, runner, clock, container, declared):
    person_id, ids = declared
    paid = create(container, person_id, ids)
    notify(container, "fake", container.providers["fake"].pay(paid["order_no"]))
    staff = signed_in(app, runner, clock, "zhao.ji", "audit")
    day = clock.now().date().isoformat()
    for dimension, label in (("day", day), ("insurance", "基本养老保险"), ("provider", "测试渠道")):
        page = staff.get(f"/backoffice/reports/collections?start={day}&end={day}&dimension={dimension}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "<svg" in text and label in text and "3000.00" in text
    answer = staff.get(f"/backoffice/reports/collections.xlsx?start={day}&end={day}&dimension=insurance")
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert [c.value for c in sheet[2]] == ["基本养老保险", 3, 3000.0]
    assert [c.value for c in sheet[3]] == ["合计", 3, 3000.0]
    bad = staff.get("/backoffice/reports/collections?start=2026-13-01")
    assert bad.status_code == 400 and "日期格式" in bad.get_data(as_text=True)


def test_a_refused_action_is_logged_as_failed_with_its_rule(app, runner, clock, container):
    finance = signed_in(app, runner, clock, "wang.cai", "finance")
    answer = finance.post("/backoffice/exceptions/debited_unposted/NOPE/resolve",
                          data={"csrf_token": csrf(finance), "note": "没有这个订单"})
    assert answer.status_code == 404
    logged = backoffice_staff.list_actions(container.backoffice, actor="wang.cai")[0]
    assert (logged.outcome, logged.detail["code"], logged.reason) == ("failed", "exception_not_found", "没有这个订单")


def test_a_failing_call_is_sent_again_and_a_refused_notification_shows_what_was_received(
        app, runner, clock, container, closed_then_debited):
    from sqlalchemy import update

    from app.adapters import tables as t

    order_no = closed_then_debited
    with container.engine.begin() as conn:  # the refund kept failing until the worker gave up on it
        conn.execute(update(t.provider_call).where(t.provider_call.c.kind == "refund")
                     .values(state="exception", attempts=12, last_error="SYSTEMERROR 系统繁忙"))
    with container.uow() as uow:
        uow.orders.log_notification("fake", order_no, "amount_mismatch", "notification amount=1", clock.now(),
                                    {"out_trade_no": order_no, "amount": {"total": 1}})
        uow.commit()
    finance = signed_in(app, runner, clock, "wang.cai", "finance")
    page = finance.get("/backoffice/exceptions").get_data(as_text=True)
    assert "SYSTEMERROR 系统繁忙" in page and "金额不符" in page
    with container.uow() as uow:
        call_id = next(c for c in uow.calls.for_order(order_no) if c.kind == "refund").id
    assert finance.post(f"/backoffice/exceptions/calls/{call_id}/send-again",
                        data={"csrf_token": csrf(finance)}).status_code == 302
    assert "SYSTEMERROR 系统繁忙" not in finance.get("/backoffice/exceptions").get_data(as_text=True)
    with container.uow() as uow:
        assert next(c for c in uow.calls.for_order(order_no) if c.kind == "refund").state == "pending"
    note_id = container.backoffice.reads().rejected_notifications()[0]["id"]
    raw = finance.get(f"/backoffice/exceptions/notifications/{note_id}").get_data(as_text=True)
    assert '"total": 1' in raw and "金额不符" in raw
    assert finance.post(f"/backoffice/exceptions/notification/{note_id}/resolve",
                        data={"csrf_token": csrf(finance), "note": "渠道测试通知，金额有误，已核实"}).status_code == 302
    assert "金额不符" not in finance.get("/backoffice/exceptions").get_data(as_text=True)
