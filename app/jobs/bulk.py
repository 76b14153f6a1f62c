"""Bulk jobs run from the command line (or enqueued on RQ): the yearly resident declaration.

``flask bulk declare-year --region 520000 --year 2027 [--insurance medical] [--chunk-size N]``
creates the year's assessments of every enrolled resident of the region with a progress bar;
stopped or crashed, the same command resumes after the last finished chunk.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.adapters.bulk_sql import SqlBulkDeclarations
from app.domain.errors import DomainError
from app.services import bulk_declaration

DEFAULT_WORKERS = 2


def declare_year(container, region: str, year: int, insurance: str | None = None,
                 chunk_size: int = bulk_declaration.DEFAULT_CHUNK_SIZE, workers: int | None = None,
                 on_start=None, on_chunk=None) -> dict:
    """The job: wire the set-based store to the service (also callable from an RQ worker).

    Workers default to 2 on PostgreSQL (one more core's worth of the database) and are always 1 on
    SQLite, which takes one writer at a time.
    """
    engine = container.engine
    if engine.dialect.name == "sqlite":
        workers = 1
    return bulk_declaration.declare_resident_year(region, year, lambda: SqlBulkDeclarations(engine),
                                                  container.policies, container.clock, insurance=insurance,
                                                  chunk_size=chunk_size, workers=workers or DEFAULT_WORKERS,
                                                  on_start=on_start, on_chunk=on_chunk)


def register(app: Flask) -> None:
    group = AppGroup("bulk", help="Bulk work over a whole region (set-based, resumable).")

    @group.command("declare-year")
    @click.option("--region", required=True, help="统筹区代码, e.g. 520000")
    @click.option("--year", required=True, type=int, help="the contribution year, e.g. 2027")
    @click.option("--insurance", type=click.Choice(bulk_declaration.RESIDENT_INSURANCES),
                  help="one insurance only (default: every resident insurance with a policy for the year)")
    @click.option("--chunk-size", default=bulk_declaration.DEFAULT_CHUNK_SIZE, show_default=True, type=int,
                  help="enrollments per transaction")
    @click.option("--workers", type=int, help=f"chunks written side by side (default {DEFAULT_WORKERS}; SQLite: 1)")
    @click.option("--quiet", is_flag=True, help="no progress bar")
    def declare_year_command(region, year, insurance, chunk_size, workers, quiet):
        """Declare a year for every enrolled resident of a region (城乡居民年度集中申报)."""
        bars = {}

        def on_start(insurance_code, total):
            if "bar" in bars:
                bars.pop("bar").render_finish()
            if not quiet:
                bars["bar"] = click.progressbar(length=max(total, 1), label=f"{insurance_code:8}", show_pos=True,
                                                show_eta=True, width=30)
                bars["bar"].render_progress()

        def on_chunk(done):
            if "bar" in bars:
                bars["bar"].update(done)

        try:
            report = declare_year(current_app.extensions["sbf"], region, year, insurance, chunk_size, workers,
                                  on_start, on_chunk)
        except DomainError as refused:  # nothing was written: every year is priced before the first chunk
            raise click.ClickException(f"{refused.code}: {refused.message}") from None
        if "bar" in bars:
            bars.pop("bar").render_finish()
        for r in report["results"]:
            resumed = r["resumed_from_enrollment_id"]
            click.echo(f"{report['region']} {r['period']} {r['insurance_label']}: created {r['created']}, "
                       f"declared {r['declared']} of {r['eligible']} eligible, "
                       f"without a grade choice {r['without_choice']}"
                       + (f" (resumed after enrollment {resumed})" if resumed else "")
                       + ("; the year built apart and attached" if r["built_apart"] else "")
                       + ("; row by row: the year already had assessments before its bulk run"
                          if r["not_built_apart"] == "default_holds_year" else ""))
        for skipped in report["skipped"]:
            click.echo(f"{report['region']} {year} {skipped['insurance']}: skipped, {skipped['message']}")

    app.cli.add_command(group)

