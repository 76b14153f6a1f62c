"""The pages behind a natural person's account (the web e-tax bureau, the tax app's agreements and
refund applications) start the same way: the cookie session's account, its consent given, and a
POST's CSRF token checked; without an account, its sign-in first, then back to the same page."""
from __future__ import annotations

from flask import current_app, g, redirect, request, session, url_for

from app.domain.errors import DomainError
from app.services import account_login
from app.web.security import check_csrf


def sign_in_first(channel: str):
    """Sets ``g.account``; answers the redirect to the sign-in page when there is no account."""
    try:
        g.account = account_login.consented_account(session.get("account_token"),
                                                    current_app.extensions["sbf"].accounts)
    except DomainError:
        return redirect(url_for("accounts_web.login", channel=channel, next=request.path))
    if request.method == "POST":
        check_csrf()
    return None
