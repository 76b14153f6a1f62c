"""Back-office test helpers: a staff member made by the CLI, and signing in through the pages."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pyotp

PASSWORD = "Qd-houtai-2026!staff"


def create_staff(runner, username: str, *roles: str, name: str = "张三") -> str:
    """``flask staff create``; answers the second factor's secret (from the printed otpauth URI)."""
    args = ["staff", "create", username, "--name", name, "--password", PASSWORD]
    for role in roles:
        args += ["--role", role]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    uri = re.search(r"(otpauth://\S+)", result.output).group(1)
    return parse_qs(urlparse(uri).query)["secret"][0]


def code(secret: str, clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)


def csrf(client) -> str:
    with client.session_transaction() as s:
        s.setdefault("csrf", "test-csrf-token")
        return s["csrf"]


def sign_in(client, username: str, secret: str, clock, steps: int = 0):
    client.get("/backoffice/login")
    answer = client.post("/backoffice/login", data={"username": username, "password": PASSWORD,
                                                    "csrf_token": csrf(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client.post("/backoffice/login/second-factor", data={"code": code(secret, clock, steps),
                                                                "csrf_token": csrf(client)})
