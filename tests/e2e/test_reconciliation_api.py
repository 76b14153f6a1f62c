"""``flask reconcile`` and the back office's reconciliation API, on PostgreSQL, with the fake provider.

The fake provider's statement of 2026-11-22 lists nothing, while our books hold a debit posted
that day: the command finds it missing there, the API shows the run and the difference, and an
operator resolves it once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from app.adapters import tables as t
from app.adapters.clock import SHANGHAI

KEY = {"X-Api-Key": "test-bureau-key"}
PAID_AT = datetime(2026, 11, 22, 15, 30, tzinfo=SHANGHAI)


def a_posted_order(container, order_no="F202611220001", amount_fen=39800):
    with container.engine.begin() as conn:
        conn.execute(insert(t.payment_order).values(
            order_no=order_no, channel="api", provider="fake", method="qr", amount_fen=amount_fen, state="posted",
            description="社保费", created_at=PAID_AT - timedelta(minutes=1), expires_at=PAID_AT + timedelta(hours=1),
            paid_at=PAID_AT, posted_at=PAID_AT, version=0))


def test_the_command_records_a_debit_the_provider_does_not_list_and_a_rerun_adds_nothing(container, runner):
    a_posted_order(container)
    done = runner.invoke(args=["reconcile", "--day", "2026-11-22", "--provider", "fake"])
    assert done.exit_code == 0, done.output
    assert "fake 2026-11-22: statement 0 payments 0 fen" in done.output
    assert "ours 1 payments 39800 fen" in done.output and "1 differences (1 new)" in done.output
    assert "missing_there" in done.output and "F202611220001" in done.output
    again = runner.invoke(args=["reconcile", "--day", "2026-11-22", "--provider", "fake"])
    assert again.exit_code == 0 and "1 differences (0 new)" in again.output
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.reconciliation_difference)).scalar() == 1


def test_the_command_refuses_a_day_that_is_not_a_date_or_not_over(runner):
    assert "对账日期格式应为YYYY-MM-DD" in runner.invoke(args=["reconcile", "--day", "2026-11-31"]).output
    today = runner.invoke(args=["reconcile", "--day", "2026-11-23", "--provider", "fake"])
    assert today.exit_code != 0 and "day_not_over" in today.output


def test_the_back_office_reads_runs_and_differences_and_resolves_one_once(container, runner, client):
    a_posted_order(container)
    assert runner.invoke(args=["reconcile", "--day", "2026-11-22", "--provider", "fake", "--quiet"]).exit_code == 0

    assert client.get("/api/v1/bureau/reconciliations").status_code == 401
    runs = client.get("/api/v1/bureau/reconciliations?day=2026-11-22&provider=fake", headers=KEY)
    assert runs.status_code == 200, runs.json
    assert [(r["day"], r["provider"], r["state"], r["difference_count"], r["ours"]["payment_fen"])
            for r in runs.json] == [("2026-11-22", "fake", "done", 1, 39800)]

    listed = client.get("/api/v1/bureau/reconciliations/differences?day=2026-11-22&unresolved=true", headers=KEY)
    assert [(d["kind"], d["order_no"], d["our_amount_fen"], d["provider_amount_fen"]) for d in listed.json] == [
        ("missing_there", "F202611220001", 39800, None)]
    difference_id = listed.json[0]["id"]

    url = f"/api/v1/bureau/reconciliations/differences/{difference_id}/resolution"
    resolved = client.put(url, json={"operator": "王会计", "note": "渠道次日补记"}, headers=KEY)
    assert resolved.status_code == 200, resolved.json
    assert (resolved.json["resolved_by"], resolved.json["resolution_note"]) == ("王会计", "渠道次日补记")
    twice = client.put(url, json={"operator": "李会计", "note": "again"}, headers=KEY)
    assert (twice.status_code, twice.json["code"]) == (409, "difference_already_resolved")
    assert client.get("/api/v1/bureau/reconciliations/differences?unresolved=true", headers=KEY).json == []
    missing = client.put("/api/v1/bureau/reconciliations/differences/999999/resolution",
                         json={"operator": "王会计", "note": "x"}, headers=KEY)
    assert (missing.status_code, missing.json["code"]) == (404, "difference_not_found")

    # a re-run after the resolution leaves it resolved
    assert runner.invoke(args=["reconcile", "--day", "2026-11-22", "--provider", "fake", "--quiet"]).exit_code == 0
    again = client.get("/api/v1/bureau/reconciliations/differences", headers=KEY).json
    assert [(d["id"], d["resolved_by"]) for d in again] == [(difference_id, "王会计")]


def test_a_difference_kind_that_does_not_exist_is_refused_clearly(client):
    answer = client.get("/api/v1/bureau/reconciliations/differences?kind=whatever", headers=KEY)
    assert answer.status_code == 422 and answer.json["code"]
    assert "message" in answer.json


def test_the_daily_job_reconciles_yesterday_and_retries_an_unavailable_day_of_the_week(container):
    from app.jobs import payments as payment_jobs
    from app.jobs.reconcile import reconcile_due_days
    from app.services.reconciliation import reconcile_day
    from payments.base import StatementUnavailable

    fake = container.providers["fake"]
    a_posted_order(container)
    real_statement, calls = fake.statement, []

    def not_ready_the_first_time(day):
        calls.append(day)
        if len(calls) == 1:
            raise StatementUnavailable("the bill is not ready")
        return real_statement(day)

    fake.statement = not_ready_the_first_time
    try:
        first = reconcile_day(PAID_AT.date() - timedelta(days=2), "fake", container.providers,
                              container.reconciliation_book, container.clock)
        assert first.run.state == "unavailable"
        payment_jobs.use_container(container)  # the job runs on the container's clock: 2026-11-23 10:00
        done = reconcile_due_days()
    finally:
        payment_jobs.use_container(None)
        fake.statement = real_statement
    assert done == {"fake 2026-11-20": {"state": "done", "differences": 0, "new": 0},
                    "fake 2026-11-22": {"state": "done", "differences": 1, "new": 1}}
