"""The batch debit's command, its RQ job, and the zero-setup run's SQLite."""
from __future__ import annotations

from datetime import date

from rq import SimpleWorker
from sqlalchemy import func, select

from app.adapters import tables as t
from app.jobs import batch_debit, payments as payment_jobs
from tests.integration.debit.seeding import seed_payers


def test_the_command_runs_a_day_with_a_progress_bar_and_again_changes_nothing(runner, container, bank):
    seed_payers(container, bank.ledger, 5)
    args = ["batch-debit", "run", "--region", "370200", "--due-date", "2026-11-25"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "CCB37020020261125 done: 5 lines, 398000 fen; succeeded 5" in first.output and "settle" in first.output
    again = runner.invoke(args=args + ["--quiet"])
    assert "succeeded 5" in again.output and len(bank.ledger.debits) == 5
    assert runner.invoke(args=["batch-debit", "resume"]).output == ""  # nothing unfinished


def test_the_scheduled_job_runs_every_configured_region_due_today(container, bank, redis_client, clock):
    seed_payers(container, bank.ledger, 2, period=date(2026, 11, 1))
    seed_payers(container, bank.ledger, 1, first=50, region="520000")
    payment_jobs.use_container(container)
    try:
        job = payment_jobs.queue(redis_client).enqueue(batch_debit.batch_debit_today)
        SimpleWorker([payment_jobs.queue(redis_client)], connection=redis_client).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished", job.latest_result()
    finally:
        payment_jobs.use_container(None)
    reports = {r["region"]: r for r in job.return_value()}
    assert reports["370200"]["succeeded"] == 2 and reports["520000"]["succeeded"] == 1
    assert reports["540000"]["state"] == "done" and reports["540000"]["lines"] == 0
    assert {r["due_date"] for r in reports.values()} == {clock.today().isoformat()}


def test_batch_debit_runs_on_sqlite_as_the_run_command_uses_it(settings, bank_served, tmp_path, clock):
    from app.factory import create_app
    from app.migrate import upgrade_database
    from payments.agreement.provider import build
    from payments.sandbox.bank import sandbox_provider_settings
    from tests.integration.debit.conftest import BankControl

    url = f"sqlite:///{tmp_path / 'run.db'}"
    upgrade_database(url)
    agreement = build(**sandbox_provider_settings(tmp_path / "bank", bank_served.url))
    app = create_app(dict(settings, DATABASE_URL=url, REDIS_URL="", BANK_FILE_DIR=str(tmp_path / "files")),
                     clock=clock, providers={"agreement": agreement})
    c = app.extensions["sbf"]
    ledger = BankControl(bank_served).ledger
    payers = seed_payers(c, ledger, 4)
    ledger.set_account(payers[0]["account_no"], balance_fen=0)
    report = batch_debit.run_day(c, "370200", date(2026, 11, 25))
    assert (report["state"], report["succeeded"], report["failed"]) == ("done", 3, 1)
    assert batch_debit.run_day(c, "370200", date(2026, 11, 25)) == report
    with c.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.payment)).scalar_one() == 3
        # paid when the bank took the money, as its result file says (to the second), on SQLite too
        paid = conn.execute(select(t.payment_order.c.paid_at, t.assessment.c.paid_at).join(
            t.order_item, t.order_item.c.order_id == t.payment_order.c.id).join(
            t.assessment, t.assessment.c.id == t.order_item.c.assessment_id).where(
            t.payment_order.c.state == "posted")).all()
        assert {tuple(row) for row in paid} == {(clock.now().replace(microsecond=0),) * 2}
    c.engine.dispose()
