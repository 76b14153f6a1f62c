"""`flask policies check --ahead 60d`: report the policy tables the coming days will need and lack."""
from __future__ import annotations

import re

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def _days(value: str) -> int:
    match = re.fullmatch(r"\s*(\d{1,4})\s*d?\s*", value)
    if not match:
        raise click.BadParameter("expected a number of days such as 60d")
    return int(match.group(1))


def register_policy_cli(app: Flask) -> None:
    group = AppGroup("policies", help="Policy tables (缴费标准) as loaded from the policy directory.")

    @group.command("check")
    @click.option("--ahead", default="60d", show_default=True, help="How far ahead to look, in days (e.g. 60d).")
    def check(ahead: str) -> None:
        """Exit non-zero, naming each table, when a collection opening within the window has no table."""
        container = current_app.extensions["sbf"]
        today = container.clock.today()
        missing = container.policies.missing_ahead(today, _days(ahead))
        for item in missing:
            click.echo(f"missing: {item.describe()}", err=True)
        if missing:
            raise SystemExit(1)
        click.echo(f"policy tables present from {today.isoformat()} for the next {_days(ahead)} days")

    app.cli.add_command(group)
