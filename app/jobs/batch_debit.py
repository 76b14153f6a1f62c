"""Batch debit (统一扣款) from the command line and on the scheduler.

``flask batch-debit run --region 370200 [--due-date 2026-11-25] [--chunk-size N]`` runs (or
resumes) one region's day with a progress bar; ``flask batch-debit resume`` takes every
unfinished batch a step further (late or lost result files). The scheduler enqueues
``batch_debit_today`` at 02:00 Asia/Shanghai for every region in ``BATCH_DEBIT_REGIONS`` and
``resume_batches`` every 10 minutes, and ``refresh_agreements`` (agreements waiting for the
bank's verification) every minute; RQ workers run them.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.services import batch_debit

DAILY_CRON = "0 18 * * *"  # 02:00 in Asia/Shanghai (the cron runs in UTC)
RESUME_INTERVAL_SECONDS = 600
REFRESH_INTERVAL_SECONDS = 60


def _settings(container, chunk_size: int | None = None) -> batch_debit.BatchSettings:
    s = container.settings
    return batch_debit.BatchSettings(Path(s["BANK_FILE_DIR"]), int(chunk_size or s["BATCH_DEBIT_CHUNK"]))


def run_day(container, region: str, due_date: date, chunk_size: int | None = None, on_progress=None) -> dict:
    """The job for one region and day (the CLI, RQ and tests call this)."""
    if container.bank is None:
        raise click.ClickException("no bank is configured (the agreement provider)")
    return batch_debit.run_batch_debit(region, due_date, container.batch_store, container.bank,
                                       container.clock, _settings(container, chunk_size), on_progress)


def resume(container) -> list[dict]:
    return batch_debit.resume_unfinished(container.batch_store, container.bank, container.clock,
                                         _settings(container))


def batch_debit_today() -> list[dict]:
    """RQ: every configured region, due today."""
    from app.jobs.payments import _current

    c = _current()
    return [run_day(c, region, c.clock.today()) for region in c.settings["BATCH_DEBIT_REGIONS"]]


def resume_batches() -> list[dict]:
    """RQ: unfinished batches one step further."""
    from app.jobs.payments import _current

    return resume(_current())


def refresh_agreements() -> dict:
    """RQ: ask the bank about agreements still waiting for its verification (未在银行签署协议)."""
    from app.jobs.payments import _current
    from app.services import agreements

    c = _current()
    return agreements.refresh_agreements(c.uow(), c.bank, c.clock) if c.bank is not None else {}


def schedule(scheduler, queue_name: str) -> None:
    scheduler.register(batch_debit_today, queue_name, cron=DAILY_CRON, name="batch_debit_today")
    scheduler.register(resume_batches, queue_name, interval=RESUME_INTERVAL_SECONDS, name="resume_batches")
    scheduler.register(refresh_agreements, queue_name, interval=REFRESH_INTERVAL_SECONDS, name="refresh_agreements")


def _echo(report: dict) -> None:
    click.echo(f"{report['file_id']} {report['state']}: {report['lines']} lines, {report['sum_fen']} fen; "
               f"succeeded {report['succeeded']} ({report['succeeded_fen']} fen), failed {report['failed']}, "
               f"pending {report['pending']}" + (f"; {report['last_error']}" if report["last_error"] else ""))


def register(app: Flask) -> None:
    group = AppGroup("batch-debit", help="统一扣款: the bureau's batch debit through agreements.")

    @group.command("run")
    @click.option("--region", required=True, help="统筹区代码, e.g. 370200")
    @click.option("--due-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="default: today (Asia/Shanghai)")
    @click.option("--chunk-size", type=int, help="lines per transaction")
    @click.option("--quiet", is_flag=True, help="no progress bar")
    def run_command(region, due_date, chunk_size, quiet):
        """Run or resume one region's batch debit of a day."""
        c = current_app.extensions["sbf"]
        bars: dict = {}

        def on_progress(stage, done, total):
            if quiet:
                return
            if bars.get("stage") != stage:
                if "bar" in bars:
                    bars.pop("bar").render_finish()
                bars["stage"], bars["done"] = stage, 0
                bars["bar"] = click.progressbar(length=max(total, done, 1), label=f"{stage:8}", show_pos=True,
                                                width=30)
            bars["bar"].length = max(bars["bar"].length, total, done)
            bars["bar"].update(done - bars["done"])
            bars["done"] = done

        report = run_day(c, region, (due_date.date() if due_date else c.clock.today()), chunk_size, on_progress)
        if "bar" in bars:
            bars.pop("bar").render_finish()
        _echo(report)

    @group.command("resume")
    def resume_command():
        """Take every unfinished batch a step further (late, lost or refused result files)."""
        for report in resume(current_app.extensions["sbf"]):
            _echo(report)

    app.cli.add_command(group)
