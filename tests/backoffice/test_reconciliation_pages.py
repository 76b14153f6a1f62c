"""Reconciliation in the back office: a day's run with both sides' totals, re-run by finance only."""
from __future__ import annotations

from datetime import timedelta

from tests.backoffice.support import create_staff, csrf, sign_in
from tests.backoffice.test_exceptions_and_reports import closed_then_debited, signed_in  # noqa: F401 (fixture)
from tests.integration.test_orders import create, declared, notify  # noqa: F401 (fixture)


def test_finance_runs_a_day_again_and_everyone_sees_the_totals(app, runner, clock, container, declared):
    person_id, ids = declared
    paid = create(container, person_id, ids)
    notify(container, "fake", container.providers["fake"].pay(paid["order_no"]))
    day = clock.now().date().isoformat()
    clock.set(clock.now() + timedelta(days=1))
    finance = signed_in(app, runner, clock, "wang.cai", "finance")
    answer = finance.post("/backoffice/reconciliation/runs", data={"csrf_token": csrf(finance), "day": day,
                                                                   "provider": "fake"})
    assert answer.status_code == 302
    page = finance.get(answer.headers["Location"]).get_data(as_text=True)
    assert "对账完成" in page and "3000.00" in page  # our side's total (the fake's statement is of its own day)
    auditor = signed_in(app, runner, clock, "zhao.ji", "audit")
    assert "3000.00" in auditor.get(f"/backoffice/reconciliation?day={day}").get_data(as_text=True)
    refused = auditor.post("/backoffice/reconciliation/runs", data={"csrf_token": csrf(auditor), "day": day,
                                                                    "provider": "fake"})
    assert refused.status_code == 403


def test_a_day_not_over_or_malformed_is_refused_in_chinese(app, runner, clock):
    finance = app.test_client()
    sign_in(finance, "wang.cai", create_staff(runner, "wang.cai", "finance"), clock)
    today = finance.post("/backoffice/reconciliation/runs", data={"csrf_token": csrf(finance), "provider": "fake",
                                                                  "day": clock.now().date().isoformat()})
    assert today.status_code == 400 and "只能对已结束的日期对账" in today.get_data(as_text=True)
    bad = finance.get("/backoffice/reconciliation?day=yesterday")
    assert bad.status_code == 400 and "日期格式" in bad.get_data(as_text=True)
