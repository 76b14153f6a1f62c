"""统一扣款 on PostgreSQL through the sandbox bank's files: exactly the successes posted, once, and the
day reconciled against the bank's statement.

The day of many payers runs 2,000 of them by default; ``SBF_BATCH_DEBIT_PAYERS=10000`` runs the issue's
10,000 (about half a minute more)."""
from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t
from app.adapters.batch_debit_sql import SqlBatchDebits
from app.domain.zone import SHANGHAI
from app.jobs.batch_debit import run_day
from app.services import call_worker
from app.services.reconciliation import DONE, UNAVAILABLE, reconcile_day
from tests.integration.debit.seeding import seed_payers, states

DUE = date(2026, 11, 25)
PAYERS = int(os.environ.get("SBF_BATCH_DEBIT_PAYERS", "2000"))


def count(c, table, *where):
    with c.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def posted_sum(c):
    with c.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(t.payment.c.amount_fen), 0))).scalar_one()


def run(c, region="370200", chunk_size=None, **kw):
    return run_day(c, region, DUE, chunk_size, **kw)


def reconcile(c, day):
    return reconcile_day(day, "agreement", c.providers, c.reconciliation_book, c.clock)


@pytest.mark.slow
def test_a_day_of_many_payers_posts_exactly_the_successes_again_changes_nothing_and_reconciles(container, bank):
    payers = seed_payers(container, bank.ledger, PAYERS)
    poor = [p["account_no"] for p in payers[::97]]
    closed = [p["account_no"] for p in payers[5::101]]
    revoked = [p["agreement_no"] for p in payers[7::103]]
    bank.accounts(**{**{a: {"balance_fen": 100} for a in poor}, **{a: {"status": "closed"} for a in closed}})
    for number in revoked:
        bank.ledger.revoke(number)
    failing = len(set(poor) | set(closed) | {p["account_no"] for p in payers if p["agreement_no"] in revoked})
    report = run(container, chunk_size=max(PAYERS * 3 // 10, 1))
    assert report["state"] == "done" and report["lines"] == PAYERS
    assert report["succeeded"] == PAYERS - failing and report["failed"] == failing
    assert count(container, t.payment) == report["succeeded"] and posted_sum(container) == report["succeeded_fen"]
    debited = sum(100_000_000 - a.balance_fen for a in bank.ledger.accounts.values() if a.balance_fen < 100_000_000
                  and a.status == "open" and a.balance_fen != 100)
    assert debited == report["succeeded_fen"]
    ids = [p["assessment_id"] for p in payers]
    assert states(container, ids) == {"paid": report["succeeded"], "declared_unpaid": failing}
    assert run(container) == report  # the same day again: nothing moves
    assert count(container, t.payment) == report["succeeded"] and count(container, t.debit_batch_line) == PAYERS
    assert len(bank.ledger.debits) == PAYERS

    day = container.clock.today()
    container.clock.set(container.clock.now() + timedelta(days=1))
    checked = reconcile(container, day)
    assert (checked.run.state, checked.run.difference_count) == (DONE, 0)
    assert (checked.run.statement.payment_count, checked.run.statement.payment_fen) == \
        (report["succeeded"], report["succeeded_fen"]) == (checked.run.ours.payment_count, checked.run.ours.payment_fen)
    again = reconcile(container, day)
    assert (again.run.difference_count, again.new_differences, again.run_written) == (0, 0, False)


def test_a_debit_the_bank_made_that_we_never_posted_is_a_reconciliation_difference(container, bank):
    payers = seed_payers(container, bank.ledger, 3)
    bank.faults(lose_result_files=True)  # the bank debits the file, we never read its result
    assert run(container)["state"] == "sent" and count(container, t.payment) == 0
    day = container.clock.today()
    container.clock.set(container.clock.now() + timedelta(days=1))
    checked = reconcile(container, day)
    assert checked.run.state == DONE and checked.run.statement.payment_count == 3
    assert checked.run.ours.payment_count == 0
    assert sorted(d.kind for d in checked.differences) == ["missing_here"] * 3
    assert states(container, [p["assessment_id"] for p in payers]) == {"paying": 3}


def test_a_result_read_after_midnight_posts_the_debits_on_the_day_the_bank_took_them(container, bank, clock):
    """The bank runs the file at 23:50; its result is only read at 00:20. The debits belong to the day the
    bank took the money (its statement's day), not to the day we learned of them: both days reconcile."""
    payers = seed_payers(container, bank.ledger, 3)
    day = clock.today()
    clock.set(datetime.combine(day, time(23, 50)))
    bank.faults(lose_result_files=True)
    assert run(container)["state"] == "sent"
    clock.set(datetime.combine(day + timedelta(days=1), time(0, 20)))
    bank.faults(lose_result_files=False)
    assert run(container)["succeeded"] == 3
    with container.engine.connect() as conn:
        paid = conn.execute(select(t.payment_order.c.paid_at, t.payment_order.c.posted_at)
                            .where(t.payment_order.c.provider == "agreement")).all()
    assert {(p.astimezone(SHANGHAI), q.astimezone(SHANGHAI)) for p, q in paid} == \
        {(datetime.combine(day, time(23, 50), SHANGHAI), datetime.combine(day + timedelta(days=1), time(0, 20),
                                                                          SHANGHAI))}
    assert states(container, [p["assessment_id"] for p in payers]) == {"paid": 3}
    clock.set(clock.now() + timedelta(days=1))
    for which, count_ in ((day, 3), (day + timedelta(days=1), 0)):
        checked = reconcile(container, which)
        assert (checked.run.state, checked.run.difference_count) == (DONE, 0), checked.differences
        assert checked.run.statement.payment_count == checked.run.ours.payment_count == count_


def test_a_day_whose_statement_is_lost_is_unavailable_and_reconciled_when_it_comes(container, bank):
    seed_payers(container, bank.ledger, 2)
    run(container)
    day = container.clock.today()
    container.clock.set(container.clock.now() + timedelta(days=1))
    bank.faults(lose_statements=True)
    assert reconcile(container, day).run.state == UNAVAILABLE
    bank.faults(lose_statements=False)
    checked = reconcile(container, day)
    assert (checked.run.state, checked.run.difference_count, checked.run.statement.payment_count) == (DONE, 0, 2)


def test_only_due_assessments_of_payers_with_auto_pay_and_a_batch_base_are_collected(container, bank):
    c, ledger = container, bank.ledger
    due = seed_payers(c, ledger, 3)
    seed_payers(c, ledger, 1, first=10, batch_debit_allowed=False)  # flexible base not for batch debit
    seed_payers(c, ledger, 1, first=11, auto_pay=False)
    seed_payers(c, ledger, 1, first=12, kind="special")
    seed_payers(c, ledger, 1, first=13, period=date(2026, 12, 1))  # not due yet
    seed_payers(c, ledger, 1, first=14, region="520000")
    residents = seed_payers(c, ledger, 2, first=15, category="resident", batch_debit_allowed=False)
    report = run(c)
    assert report["lines"] == 5 and report["succeeded"] == 5
    with c.engine.connect() as conn:
        collected = set(conn.execute(select(t.debit_batch_line.c.assessment_id)).scalars())
    assert collected == {p["assessment_id"] for p in due + residents}


def test_failures_stay_declared_with_the_banks_reason_for_the_payer(container, bank):
    payers = seed_payers(container, bank.ledger, 3)
    bank.accounts(**{payers[0]["account_no"]: {"balance_fen": 0}, payers[1]["account_no"]: {"status": "closed"}})
    run(container)
    with container.engine.connect() as conn:
        rows = conn.execute(select(t.debit_batch_line.c.result_code, t.debit_batch_line.c.reason,
                                   t.payment_order.c.state, t.payment_order.c.failure_reason)
                            .join(t.payment_order, t.payment_order.c.id == t.debit_batch_line.c.order_id)
                            .order_by(t.debit_batch_line.c.id)).all()
    assert [tuple(r) for r in rows] == [("51", "余额不足", "closed", "bank:51"), ("14", "账户已销户", "closed", "bank:14"),
                                        ("00", "交易成功", "posted", None)]
    assert states(container, [p["assessment_id"] for p in payers]) == {"declared_unpaid": 2, "paid": 1}
    assert count(container, t.order_item, t.order_item.c.live) == 1


def test_a_lost_result_file_leaves_the_batch_sent_until_it_arrives(container, bank):
    payers = seed_payers(container, bank.ledger, 4)
    bank.faults(lose_result_files=True)
    report = run(container)
    assert report["state"] == "sent" and "NO_RESULT" in report["last_error"] and count(container, t.payment) == 0
    assert states(container, [p["assessment_id"] for p in payers]) == {"paying": 4}
    bank.faults(lose_result_files=False)
    assert run(container)["state"] == "done" and count(container, t.payment) == 4


def test_a_result_file_whose_trailer_does_not_add_up_posts_nothing(container, bank):
    seed_payers(container, bank.ledger, 4)
    bank.faults(bad_result_trailer=True)
    report = run(container)
    assert report["state"] == "sent" and "bad_trailer" in report["last_error"] and count(container, t.payment) == 0
    bank.faults(bad_result_trailer=False)
    assert run(container)["succeeded"] == 4


def test_a_partial_result_posts_what_is_settled_and_the_full_one_later_posts_the_rest_once(container, bank, clock):
    seed_payers(container, bank.ledger, 6)
    bank.faults(partial_results=True, late_seconds=3600)
    first = run(container)
    assert (first["state"], first["succeeded"], first["pending"]) == ("sent", 3, 3)
    clock.set(clock.now() + timedelta(hours=1))
    second = run(container)  # the second file repeats the three settled lines: received twice, posted once
    assert (second["state"], second["succeeded"], second["pending"]) == ("done", 6, 0)
    assert count(container, t.payment) == 6


def test_the_same_result_lines_settled_twice_post_once(container, bank, tmp_path):
    seed_payers(container, bank.ledger, 3)
    run(container)
    c = container
    path = tmp_path / "files" / "CCB37020020261125.res"
    lines = list(c.bank.read_result_file(path, "CCB37020020261125"))
    with SqlBatchDebits(c.engine) as store:
        batch = store.open_batch("370200", DUE, "CCB37020020261125", c.clock.now())
        again = store.settle(batch, lines, c.clock.now())
        store.commit()
    assert (again.succeeded, again.already) == (0, 3) and count(c, t.payment) == 3


def test_a_line_nobody_sent_is_logged_and_changes_nothing(container, bank):
    seed_payers(container, bank.ledger, 2)
    bank.faults(unknown_result_line=True)
    report = run(container)
    assert report["state"] == "done" and report["succeeded"] == 2 and "未知明细" in report["last_error"]
    assert count(container, t.notification_log, t.notification_log.c.outcome == "unknown_line") == 1
    assert count(container, t.payment) == 2


def test_a_file_the_bank_refuses_releases_every_line(container, bank):
    payers = seed_payers(container, bank.ledger, 3)
    bank.faults(reject_files=True)
    report = run(container)
    assert report["state"] == "rejected" and "BAD_TRAILER" in report["last_error"]
    assert states(container, [p["assessment_id"] for p in payers]) == {"declared_unpaid": 3}
    assert count(container, t.payment_order, t.payment_order.c.state == "closed") == 3
    assert not bank.ledger.debits


def test_a_crash_while_collecting_resumes_after_the_last_chunk(container, bank):
    payers = seed_payers(container, bank.ledger, 10)

    def crash(stage, done, total):
        if stage == "collect" and done >= 4:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        run(container, chunk_size=4, on_progress=crash)
    assert count(container, t.debit_batch_line) == 4
    report = run(container, chunk_size=4)
    assert report["lines"] == 10 and report["succeeded"] == 10
    assert count(container, t.payment) == 10 and len({p["assessment_id"] for p in payers}) == 10


def test_the_call_worker_leaves_batch_orders_to_the_batch(container, bank, clock):
    payers = seed_payers(container, bank.ledger, 3)
    bank.faults(lose_result_files=True)
    run(container)
    c = container
    clock.set(clock.now() + timedelta(days=10))  # past the orders' expiry too
    assert call_worker.run_due_calls(c.uow(), c.payments) == {}
    assert states(c, [p["assessment_id"] for p in payers]) == {"paying": 3}
    bank.faults(lose_result_files=False)
    report = run(container)
    assert report["state"] == "done" and report["succeeded"] == 3 and count(c, t.payment) == 3


def test_a_day_with_nothing_due_is_done_without_a_file(container, bank):
    assert run(container)["state"] == "done" and not bank.ledger.batches


def test_a_file_the_bank_could_not_be_sent_is_sent_by_the_next_run(container, bank, clock):
    payers = seed_payers(container, bank.ledger, 2)
    bank.faults(api_5xx=True)
    report = run(container)
    assert report["state"] == "collected" and report["attempts"] == 1 and report["last_error"]
    assert states(container, [p["assessment_id"] for p in payers]) == {"paying": 2}
    bank.faults(api_5xx=False)
    assert run(container)["succeeded"] == 2
    assert count(container, t.notification_log, t.notification_log.c.outcome == "debited_not_posted") == 0


def test_a_file_id_the_bank_already_holds_is_read_for_its_result_not_released(container, bank, tmp_path):
    seed_payers(container, bank.ledger, 2)
    with SqlBatchDebits(container.engine) as store:  # another run wrote and sent the same day a moment earlier
        batch = store.open_batch("370200", DUE, "CCB37020020261125", container.clock.now())
        store.collect_chunk(batch, 100, container.clock.now())
        store.save(batch, container.clock.now())
        store.commit()
        path = tmp_path / "other.req"
        container.bank.write_batch_file(path, batch.file_id, DUE, container.clock.now().replace(hour=1),
                                        store.lines(batch))
    container.bank.send_batch(batch.file_id, path)
    report = run(container)  # finds the batch collecting, ends collecting, sends its own bytes: 409
    assert report["state"] == "done" and report["succeeded"] == 2 and count(container, t.payment) == 2


def test_an_e_ticket_number_already_taken_is_drawn_again(container, bank):
    from sqlalchemy import text

    seed_payers(container, bank.ledger, 2)
    run(container)
    with container.engine.begin() as conn:  # the serial wraps: its next numbers are the ones just used
        first = min(int(x[-7:]) for x in conn.execute(select(t.payment.c.e_ticket_number)).scalars())
        conn.execute(text("SELECT setval('e_ticket_serial', :v)"), {"v": first - 1 + 10_000_000})
    seed_payers(container, bank.ledger, 2, first=100)
    report = run_day(container, "370200", DUE + timedelta(days=1))
    assert report["succeeded"] == 2 and count(container, t.payment) == 4
    with container.engine.connect() as conn:
        tickets = conn.execute(select(t.payment.c.e_ticket_number)).scalars().all()
    assert len(set(tickets)) == 4 and all(len(x) == 20 and x.startswith("3370200") for x in tickets)
