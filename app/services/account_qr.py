"""扫码登录 (seed 000): the web page shows a QR; the tax app, signed in, scans it and confirms;
the web page then gets a session of its own for that account.

The QR names a random id only the showing browser knows; it lasts two minutes (by the Clock),
is confirmed once by a signed-in account (with its consent given), and is turned into a session
once. Confirming never hands the app's session to the web page: the web page gets a new one.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from app.domain.errors import Conflict, NotFound
from app.services.account_login import consented_account, open_session
from app.services.account_ports import AccountDeps

QR_KEY = "acct:qr:"
QR_TTL = timedelta(minutes=2)
QR_EXPIRED = ("qr_login_expired", "二维码已失效，请刷新页面重新扫码")


def start_qr_login(deps: AccountDeps) -> dict:
    """A new QR for the web page: its id and the URL the tax app opens when it scans it."""
    qr_id = secrets.token_urlsafe(24)
    deps.store.put(QR_KEY + qr_id, {"state": "waiting", "created_at": deps.clock.now().isoformat()},
                   int(QR_TTL.total_seconds()) * 2)
    return {"qr_id": qr_id, "confirm_url": f"{deps.settings.public_base_url}/accounts/qr/{qr_id}",
            "expires_in": int(QR_TTL.total_seconds())}


def _live(qr_id: str, deps: AccountDeps) -> dict:
    record = deps.store.get(QR_KEY + (qr_id or "-"))
    if record is None or deps.clock.now() - datetime.fromisoformat(record["created_at"]) >= QR_TTL:
        raise NotFound(*QR_EXPIRED)
    return record


def qr_login_state(qr_id: str, deps: AccountDeps) -> str:
    """``waiting``, ``confirmed`` or ``expired`` — what the web page polls."""
    try:
        return _live(qr_id, deps)["state"]
    except NotFound:
        return "expired"


def confirm_qr_login(qr_id: str, app_token: str | None, deps: AccountDeps) -> dict:
    """The tax app's signed-in account confirms the web sign-in shown by the QR."""
    account = consented_account(app_token, deps)
    record = _live(qr_id, deps)
    if record["state"] != "waiting":
        raise Conflict("qr_login_used", "该二维码已确认过，请在电脑上刷新后重新扫码")
    deps.store.put(QR_KEY + qr_id, {**record, "state": "confirmed", "account_id": account.id},
                   int(QR_TTL.total_seconds()) * 2)
    with deps.uow() as uow:
        uow.audit.record("account.qr_login_confirmed", f"account:{account.id}", {}, deps.clock.now())
        uow.commit()
    return {"state": "confirmed"}


def finish_qr_login(qr_id: str, deps: AccountDeps, previous_token: str | None = None) -> dict:
    """The web page, once confirmed: a new session for it (once)."""
    record = _live(qr_id, deps)
    if record["state"] != "confirmed" or deps.store.take(QR_KEY + qr_id) is None:
        raise Conflict("qr_login_waiting", "请使用税务应用扫码并确认登录")
    with deps.uow() as uow:
        account = uow.accounts.get(record["account_id"])
    if account is None or account.status != "active":
        raise NotFound(*QR_EXPIRED)
    return open_session(account, deps, previous_token, channel="etax_web", how="qr")
