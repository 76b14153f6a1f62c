"""``flask access-log``: what the personal-data access log says, for an operator or an auditor.

Querying it reads no personal data itself: rows name persons by id, accessors by code or
fingerprint. Output is one JSON object a line (``--format json``) or an aligned table.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import click
from flask import Flask, current_app

from app.adapters.clock import SHANGHAI
from app.adapters.personal_data_log import query_access_log

COLUMNS = ("at", "person_id", "fields", "accessor_kind", "accessor", "purpose", "request_id", "client_ip")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date or time (2026-11-23 or 2026-11-23T10:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def register(app: Flask) -> None:
    @app.cli.command("access-log")
    @click.option("--person", "person_id", type=int, help="only reads of this person (id)")
    @click.option("--accessor", help="only accessors containing this text (e.g. wechat_oa:o3xx, key:1a2b)")
    @click.option("--since", help="from this date/time (Asia/Shanghai unless given), default 7 days ago")
    @click.option("--until", help="before this date/time")
    @click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    def access_log(person_id, accessor, since, until, limit, fmt):
        """Who read whose personal data, what, when and why (newest first)."""
        c = current_app.extensions["sbf"]
        start = _moment(since) or c.clock.now() - timedelta(days=7)
        rows = query_access_log(c.engine, person_id=person_id, accessor=accessor, since=start,
                                until=_moment(until), limit=limit)
        for row in rows:
            row["at"] = row["at"].astimezone(SHANGHAI).isoformat(timespec="seconds")
            if fmt == "json":
                click.echo(json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False))
            else:
                click.echo("  ".join(str(row[k] if row[k] is not None else "-") for k in COLUMNS))
        if fmt == "table":
            click.echo(f"{len(rows)} reads", err=True)
