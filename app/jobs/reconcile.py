"""Reconciliation from the command line and on schedule.

``flask reconcile --day YYYY-MM-DD [--provider X]`` reconciles one Asia/Shanghai day of one
provider, or of every configured provider, with a progress bar over the statement's lines.
The cron scheduler (``flask jobs scheduler``) enqueues ``reconcile_due_days`` once a day
(``RECONCILE_CRON``, after the providers publish the previous day's statements): it
reconciles yesterday and retries the days of the last week whose statement was unavailable.
Re-running a day is harmless: it writes nothing new.
"""
from __future__ import annotations

import click
from flask import Flask, current_app

from app.domain.errors import DomainError
from app.domain.reconciliation import parse_day
from app.services import reconciliation

# RQ reads cron in the scheduler's local time: run it with TZ=Asia/Shanghai. WeChat Pay publishes
# the previous day's bill after 10:00 Beijing time, Alipay's and UnionPay's files come earlier.
RECONCILE_CRON = "30 10 * * *"
RECONCILE_TIMEOUT_SECONDS = 1800  # a million-line day takes well under a minute; RQ's default is 180 s


def reconcile(container, day, provider_code: str, on_progress=None) -> reconciliation.RunReport:
    """One day of one provider, wired to the container's book and clock."""
    return reconciliation.reconcile_day(day, provider_code, container.providers, container.reconciliation_book,
                                        container.clock, on_progress=on_progress)


def reconcile_due_days() -> dict:
    """The scheduled job: every provider's due days (yesterday, and unavailable ones of the last week)."""
    from app.jobs.payments import _current  # the worker's container, built once per process

    c = _current()
    done = {}
    for code in sorted(c.providers):
        for day in reconciliation.days_to_reconcile(code, c.reconciliation_book, c.clock):
            report = reconcile(c, day, code)
            done[f"{code} {day}"] = {"state": report.run.state, "differences": report.run.difference_count,
                                     "new": report.new_differences}
    return done


def register(app: Flask) -> None:
    @app.cli.command("reconcile")
    @click.option("--day", "day_text", required=True, help="the Asia/Shanghai day, YYYY-MM-DD")
    @click.option("--provider", help="wechatpay, alipay, unionpay, counter, agreement (default: every configured provider)")
    @click.option("--quiet", is_flag=True, help="no progress bar")
    def reconcile_command(day_text, provider, quiet):
        """Reconcile a day: the provider's statement against our payments, refunds and assessments (对账)."""
        container = current_app.extensions["sbf"]
        try:
            day = parse_day(day_text)
        except DomainError as refused:
            raise click.BadParameter(refused.message, param_hint="--day") from None
        codes = [provider] if provider else sorted(container.providers)
        failed = False
        for code in codes:
            bar = {}

            def on_progress(done, total, code=code, bar=bar):
                if quiet:
                    return
                if "bar" not in bar:
                    bar["bar"] = click.progressbar(length=total or 0, label=f"{code:10}", show_pos=True,
                                                   show_percent=total is not None, width=30)
                    bar["bar"].render_progress()
                bar["bar"].update(done)

            try:
                report = reconcile(container, day, code, on_progress)
            except DomainError as refused:
                raise click.ClickException(f"{refused.code}: {refused.message}") from None
            if "bar" in bar:
                bar["bar"].render_finish()
            run = report.run
            if run.state != reconciliation.DONE:
                failed = True
                click.echo(f"{code} {day}: statement unavailable ({run.error}); run again later")
                continue
            click.echo(f"{code} {day}: statement {run.statement.payment_count} payments "
                       f"{run.statement.payment_fen} fen, {run.statement.refund_count} refunds "
                       f"{run.statement.refund_fen} fen; ours {run.ours.payment_count} payments "
                       f"{run.ours.payment_fen} fen, {run.ours.refund_count} refunds {run.ours.refund_fen} fen; "
                       f"{run.difference_count} differences ({report.new_differences} new)")
            for difference in report.differences:
                click.echo(f"  {difference.kind:26} {difference.order_no or '-':32} {difference.refund_no or '-':24} "
                           f"{difference.detail}")
        if failed:
            raise SystemExit(1)
