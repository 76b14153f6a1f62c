"""Command-line tools: migrate the schema, import bureau files, load demo data."""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.migrate import upgrade_database

current_logger = logging.getLogger(__name__)
from app.services import bureau


def _container():
    return current_app.extensions["sbf"]


def _read_text(path: str) -> str:
    """A file's text (UTF-8, with or without a BOM); one clear message instead of a traceback."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: 文件须为UTF-8编码") from None
    except OSError as trouble:
        raise click.ClickException(f"{path}: {trouble.strerror or trouble}") from None


def _read_file(path: str) -> list[dict]:
    text = _read_text(path)
    if path.lower().endswith(".csv"):
        import io

        return list(csv.DictReader(io.StringIO(text)))
    try:
        data = json.loads(text)
    except ValueError as bad:
        raise click.ClickException(f"{path}: 不是有效的JSON（{bad}）") from None
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise click.ClickException(f"{path}: 须为对象的数组，或带 rows 数组的对象")
    return rows


def _print_report(report: dict) -> None:
    click.echo(f"created {report['created']}, updated {report['updated']}, unchanged {report['unchanged']}, "
               f"rejected {len(report['rejected'])}")
    for row in report["rejected"]:
        click.echo(f"  row {row['row']} ({row['insured_number']}): {row['code']} {row['message']}")


def register_cli(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate():
        """Bring the database schema up to date (Alembic upgrade head)."""
        upgrade_database(current_app.config["DATABASE_URL"])
        click.echo("schema up to date")

    group = AppGroup("bureau", help="Import what the HR and medical bureaus push.")

    @group.command("import-enrollments")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_enrollments(path):
        """Import enrollments from a CSV or JSON file (idempotent on insured number)."""
        c = _container()
        _print_report(bureau.import_enrollments(_read_file(path), c.uow(), c.clock))

    @group.command("import-special")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_special(path):
        """Import special assessments (特殊缴费) from a CSV or JSON file."""
        c = _container()
        _print_report(bureau.import_special_assessments(_read_file(path), c.uow(), c.clock))

    app.cli.add_command(group)

    bank = AppGroup("bank", help="What the banks send: counter payment confirmations.")

    @bank.command("import-file")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--bank", "bank_code", required=True, help="the bank's code, e.g. ccb")
    def import_bank_file(path, bank_code):
        """Import a bank's daily confirmation file (CSV); each line posts like a live confirmation."""
        import time

        from payments.counter.provider import confirmations_from_bank_file
        from app.services import settlement

        c = _container()
        secret = current_app.config["COUNTER_BANK_KEYS"].get(bank_code)
        if not secret:
            raise click.ClickException(f"unknown bank {bank_code!r}")
        text = _read_text(path)
        outcomes = {}
        try:  # the freshness stamp of a signed confirmation is wall-clock time, as the bank's own would be
            confirmations = confirmations_from_bank_file(text, bank_code, secret, int(time.time()))
        except ValueError as bad:  # names the first bad line; nothing has been posted
            raise click.ClickException(f"{path}: {bad}") from None
        for incoming in confirmations:
            ack = settlement.receive_notification("counter", incoming, c.uow(), c.payments)
            outcomes[ack.status] = outcomes.get(ack.status, 0) + 1
        click.echo(f"handled {outcomes.get(200, 0)}, refused {sum(v for k, v in outcomes.items() if k != 200)}")

    app.cli.add_command(bank)

    jobs = AppGroup("jobs", help="Background jobs on Redis (RQ).")

    @jobs.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst):
        """Run an RQ worker for the payments queue (jobs log under the request id that enqueued them)."""
        from app.jobs import payments as payment_jobs
        from app.observability.jobs import RequestIdWorker

        c = _container()
        payment_jobs.use_container(c)
        RequestIdWorker([payment_jobs.queue(c.redis)], connection=c.redis).work(burst=burst)

    @jobs.command("scheduler")
    def scheduler():
        """Run the cron scheduler that enqueues the provider-call run every PROVIDER_CALL_RUN_SECONDS (60)."""
        from app.jobs import payments as payment_jobs

        payment_jobs.build_scheduler(_container().redis, current_app.config["PROVIDER_CALL_RUN_SECONDS"]).start()

    @jobs.command("requery")
    def requery():
        """Run the due provider calls (re-queries, closes, refunds) once, now, in this process."""
        from app.jobs import payments as payment_jobs

        payment_jobs.use_container(_container())
        click.echo(payment_jobs.run_provider_calls())

    app.cli.add_command(jobs)

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    def serve(host, port):
        """Serve the app (threaded) for the zero-setup run command."""
        from werkzeug.serving import run_simple

        config = current_app.config
        if not config["PAYMENT_PROVIDERS"]:
            from payments.sandbox.wiring import start_sandboxes

            for served in start_sandboxes(config["SANDBOX_KEY_DIR"], config["SANDBOX_URLS"],
                                          config["SANDBOX_TIME_SCALE"]):
                click.echo(f"sandbox gateway on {served.url}")
        if not config.get("CHANNELS"):  # the channels' identity sandboxes (WeChat, 云闪付 open platform)
            from channels.sandbox.wiring import start_identity_sandboxes

            for served in start_identity_sandboxes(config["SANDBOX_KEY_DIR"], config["CHANNEL_SANDBOX_URLS"]):
                click.echo(f"channel identity sandbox on {served.url}")
        if not config["REDIS_URL"]:
            from app.jobs import payments as payment_jobs

            payment_jobs.start_in_process_runner(_container())
        click.echo(f"serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)

    # -- feature commands register here, one line each (register(app)) --
    from app.jobs import bulk as bulk_jobs; bulk_jobs.register(app)  # noqa: E702 - flask bulk declare-year
    from app import channel_cli; channel_cli.register(app)  # noqa: E702 - flask channels list / publish-menu
    from app import calls_cli; calls_cli.register(app)  # noqa: E702 - flask calls exceptions / send-again / lag
    from app.jobs import batch_debit; batch_debit.register(app)  # noqa: E702 - flask batch-debit run / resume
    from app.jobs import reconcile as reconcile_jobs; reconcile_jobs.register(app)  # noqa: E702 - flask reconcile
    from app import access_log_cli; access_log_cli.register(app)  # noqa: E702 - flask access-log
    from app import backoffice_cli; backoffice_cli.register(app)  # noqa: E702 - flask staff create / change
    # -- end of feature commands --

    @app.cli.command("demo-data")
    def demo_data():
        """Load the demo people of the three seed regions (idempotent)."""
        c = _container()
        rows = json.loads(Path(current_app.config["DEMO_PEOPLE_FILE"]).read_text(encoding="utf-8"))
        _print_report(bureau.import_enrollments(rows["enrollments"], c.uow(), c.clock))
