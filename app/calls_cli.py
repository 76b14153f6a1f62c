"""``flask calls``: what operators see of provider calls — the exceptions list, sending one
again, the calls of an order, the lag figures, and one run of the due calls."""
from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.domain.errors import DomainError
from app.services import call_worker, provider_calls


def register(app: Flask) -> None:
    group = AppGroup("calls", help="Provider calls: exceptions an operator must see, and the worker's lag.")

    def c():
        return current_app.extensions["sbf"]

    @group.command("exceptions")
    @click.option("--limit", default=100, show_default=True)
    @click.option("--after-id", default=0, help="page on: the last id shown")
    @click.option("--json", "as_json", is_flag=True, help="one JSON object per line, with request and answer")
    def exceptions(limit, after_id, as_json):
        """List the calls that kept failing or were refused (oldest first)."""
        rows = provider_calls.list_exceptions(c().uow(), limit=limit, after_id=after_id)
        for row in rows:
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False, default=str))
            else:
                click.echo(f"{row['id']:>8} {row['kind']:<7} {row['provider']:<10} {row['key']:<24} "
                           f"attempts={row['attempts']:<3} {row['finished_at'] or ''}  {row['last_error'] or ''}")
        if not rows:
            click.echo("no exceptions")

    @group.command("send-again")
    @click.argument("call_id", type=int)
    def send_again(call_id):
        """Send an exception again (same idempotency key), due now."""
        try:
            row = provider_calls.send_again(call_id, c().uow(), c().clock)
        except DomainError as refused:
            raise click.ClickException(f"{refused.code}: {refused.message}") from None
        click.echo(f"call {row['id']} ({row['kind']} {row['key']}) is due again")

    @group.command("order")
    @click.argument("order_no")
    def of_order(order_no):
        """Every call made about one order: prepay, queries, close, refunds."""
        for row in provider_calls.calls_of_order(order_no, c().uow()):
            click.echo(json.dumps(row, ensure_ascii=False, default=str))

    @group.command("lag")
    def lag():
        """The age of the oldest paid-but-unposted order, the worker's delay, the exceptions count."""
        click.echo(json.dumps(provider_calls.money_lag(c().uow(), c().clock)))

    @group.command("run")
    def run():
        """Run the due calls once, now, in this process."""
        click.echo(json.dumps(call_worker.run_due_calls(c().uow(), c().payments)))

    app.cli.add_command(group)
