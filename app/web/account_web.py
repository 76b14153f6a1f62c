"""Registers the account pages, the tax app's and the web e-tax bureau's pages (their 委托扣款协议
screens included), and (in development
and tests) the SMS and identity-verification sandboxes' pages."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.web import (account_manage_pages, account_pages, account_qr_pages, agreement_pages, etax_pages,
                         refund_pages, tax_app_pages)

    for module in (account_pages, account_qr_pages, account_manage_pages, etax_pages, tax_app_pages, refund_pages):
        app.register_blueprint(module.bp)
    for blueprint in agreement_pages.blueprints():
        app.register_blueprint(blueprint)
    if app.config.get("ACCOUNT_SANDBOXES"):
        from app.web import account_sandbox

        app.register_blueprint(account_sandbox.bp)
