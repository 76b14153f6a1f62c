"""The application factory: ``create_app(settings_name=None, **overrides)``."""
from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Flask, send_from_directory

from app.api import parsing
from app.api.openapi import Api
from app.bootstrap import build_container
from app.errors import register_error_handlers
from config.settings import load_settings


def create_app(settings: str | dict | None = None, **overrides: Any) -> Flask:
    """Build the app for a settings name (or a dict of settings); overrides replace container parts."""
    values = settings if isinstance(settings, dict) else load_settings(settings)
    app = Flask(__name__)
    app.config.update(values)
    app.json.ensure_ascii = False
    from app.observability.logs import configure_logging

    configure_logging(values.get("LOG_LEVEL", "INFO"), values.get("LOG_FORMAT", "json"))  # before anything logs
    app.extensions["sbf"] = build_container(values, **overrides)
    parsing.init_app(app)  # bounded URL converters, before any route is registered
    from app import observability

    observability.init_app(app)  # first: JSON logs, request ids, /healthz /readyz /metrics

    api = Api(app, spec_kwargs={"components": {"securitySchemes": {
        "sessionToken": {"type": "apiKey", "in": "header", "name": "X-Session-Token"},
        "bureauApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}}})
    from app.api import bureau, orders, payer  # blueprints are built per app, imported here to keep import-time quiet

    api.register_blueprint(payer.blp)
    api.register_blueprint(bureau.blp)
    api.register_blueprint(orders.blp)
    register_error_handlers(app)
    from app import web

    web.init_app(app)
    # -- features register themselves here, one line each (init_app(app, api)) --
    from app.api import lookback; lookback.init_app(app, api)  # noqa: E702 (and the public /verify page)
    from app.api import channels as channel_api; channel_api.init_app(app, api)  # noqa: E702 (+ /channels/<code>/...)
    from app.api import agreements as agreement_api; agreement_api.init_app(app, api)  # noqa: E702 (委托扣款协议)
    from app.api import reconciliation as reconciliation_api; reconciliation_api.init_app(app, api)  # noqa: E702
    from app.api import accounts; accounts.init_app(app, api)  # noqa: E702 (the account API)
    from app.api import refund_applications as refund_api; refund_api.init_app(app, api)  # noqa: E702 (退费申请)
    from app.web import account_web; account_web.init_app(app)  # noqa: E702 (/accounts, /tax-app, /etax, /sandbox)
    from app.web import backoffice; backoffice.init_app(app)  # noqa: E702 (/backoffice: the bureau's staff)
    from app.web import backoffice_refunds; backoffice_refunds.init_app(app)  # noqa: E702 (退费审核)
    # -- end of features --

    @app.get("/api/docs/static/<path:filename>")
    def swagger_static(filename):
        """Swagger UI assets from the installed package, so the docs page needs no CDN."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    from app.cli import register_cli

    register_cli(app)
    from app.policy_cli import register_policy_cli

    register_policy_cli(app)
    return app
