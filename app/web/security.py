"""A per-session CSRF token for the pages' forms (the API uses headers, not cookies)."""
from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    given = request.form.get("csrf_token", "")
    expected = str(session.get("csrf", ""))
    # bytes: compare_digest refuses str with non-ASCII characters (a forged token is just wrong)
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace")):
        abort(400, description="页面已过期，请返回重新操作")
