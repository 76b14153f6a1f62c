"""Server-rendered payer pages (H5, WeUI look) and the landing page of the run command."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, current_app, render_template, request

from app.domain.money import yuan
from app.web.looks import LOOKS, METHOD_LABELS
from app.web.security import csrf_token


def init_app(app: Flask) -> None:
    from app.web import verify
    from app.web.pages import bp

    app.register_blueprint(bp)
    verify.init_app(app)  # the public verification page, where a certificate's QR code leads
    app.jinja_env.filters["yuan"] = lambda fen: yuan(fen) if fen is not None else ""
    app.jinja_env.globals.update(csrf_token=csrf_token, METHOD_LABELS=METHOD_LABELS)

    @app.context_processor
    def _elder():
        return {"elder": request.cookies.get("elder") == "1"}

    @app.get("/")
    def landing():
        """The run command's front page: channel entries and, in development, the demo people."""
        people = []
        if current_app.config.get("SHOW_DEMO_PEOPLE"):
            rows = json.loads(Path(current_app.config["DEMO_PEOPLE_FILE"]).read_text("utf-8"))["enrollments"]
            seen = {}
            for row in rows:
                seen.setdefault(row["id_number"], {"name": row["name"], "id_number": row["id_number"],
                                                   "region": row["region"], "enrollments": []})
                seen[row["id_number"]]["enrollments"].append(row)
            people = list(seen.values())
        policies = current_app.extensions["sbf"].policies
        return render_template("landing.html", looks=LOOKS, people=people, region_name=policies.region_name,
                               channel="etax_web", look={"title": "社保费缴费服务", "brand": "", "accent": "#c8102e"})
