"""Server-rendered payer pages (H5, WeUI look) and the landing page of the run command."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, current_app, g, render_template, request

from app.domain.labels import CHANNEL_LABELS, METHOD_LABELS, method_label
from app.domain.money import yuan
from app.domain.zone import local_minute
from app.web.looks import look_of
from app.web.security import csrf_token


def init_app(app: Flask) -> None:
    from app.web import errors, lookback_pages, pages, verify

    app.register_blueprint(pages.bp)
    app.register_blueprint(lookback_pages.bp)
    verify.init_app(app)  # the public verification page, where a certificate's QR code leads
    errors.init_app(app)
    app.jinja_env.filters["yuan"] = lambda fen: yuan(fen) if fen is not None else ""
    app.jinja_env.filters["beijing"] = lambda text: local_minute(_parse(text)) if text else ""
    app.jinja_env.globals.update(csrf_token=csrf_token, METHOD_LABELS=METHOD_LABELS, method_label=method_label)

    @app.context_processor
    def _elder():
        return {"elder": request.cookies.get("elder") == "1"}

    @app.get("/")
    def landing():
        """The run command's front page: the channels served (from the channel registry) and, in
        development, the demo people."""
        from app.web.context import channel_codes

        g.channel = ""
        entries = [(code, CHANNEL_LABELS.get(code, code)) for code in channel_codes()]
        if "etax" in current_app.blueprints:  # the web e-tax bureau is an account site, not a channel adapter
            entries.append(("etax_web", CHANNEL_LABELS.get("etax_web", "电子税务局")))
        return render_template("landing.html", entries=entries, people=_demo_people(),
                               region_name=current_app.extensions["sbf"].policies.region_name, channel="",
                               look={**look_of(""), "title": "社保费缴费服务", "brand": ""})


def _demo_people() -> list[dict]:
    if not current_app.config.get("SHOW_DEMO_PEOPLE"):
        return []
    rows = json.loads(Path(current_app.config["DEMO_PEOPLE_FILE"]).read_text("utf-8"))["enrollments"]
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(row["id_number"], {"name": row["name"], "id_number": row["id_number"], "region": row["region"],
                                           "enrollments": []})
        seen[row["id_number"]]["enrollments"].append(row)
    return list(seen.values())


def _parse(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)
