"""A stranger fuzzes the newest pages and APIs (refund applications, the back office, the agreement
pages): every GET and POST route under their prefixes, taken from the app's URL map, gets hostile
path ids, query strings and form or JSON bodies — ids beyond 64 bits, NUL bytes, lone surrogates,
very long strings, impossible dates, wrong types, missing fields — signed in, with a valid CSRF
token. Never a 500; a page never shows the framework's English error page; a JSON error carries a
Chinese message."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from app.adapters.clock import SHANGHAI
from app.domain.staff import ROLES
from tests.accounts.support import ZHANG, phone_of_record, register
from tests.accounts.test_pages import sign_in as payer_sign_in
from tests.backoffice.support import create_staff, sign_in as staff_sign_in
from tests.e2e.test_api_core_flow import session
from tests.integration.refunds.conftest import zhang_paid  # noqa: F401  (fixture)
from tests.integration.debit.conftest import app, bank, bank_served, zhang  # noqa: F401  (fixtures)

IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
PREFIXES = ("/refunds", "/backoffice", "/etax/agreements", "/tax-app/agreements", "/api/v1/refund-applications")
CSRF = "fuzz-csrf-token"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_ERRORS = ("Internal Server Error", "Not Found", "Method Not Allowed", "Bad Request", "Forbidden",
                  "Unauthorized", "Traceback", "The requested URL", "werkzeug")

# percent-encoded: a NUL byte, a lone surrogate (as CESU bytes, not UTF-8), an overlong string, ...
HOSTILE = ["", "%00", "a%00b", "%ED%A0%80", "%FF%FE", "x" * 5000, "%E4%B8%AD" * 2000, "-1", "0",
           "18446744073709551616", "99999999999999999999999999", "0000-01", "9999-99", "2026-13", "1e309",
           "NaN", "true", "%3Cscript%3E", "..%2F..%2Fetc"]
PATH_VALUES = ["18446744073709551616", "99999999999999999999999999", "-1", "0", "%00", "%ED%A0%80",
               "x" * 3000, "TF" + "9" * 40, "tax_app", "etax_web"]
# every name the views read, and some they do not
FIELDS = ["back", "day", "dimension", "kind", "next", "period_start", "period_end", "provider", "state",
          "assessment_ids", "assessment_id", "account_kind", "account_no", "action", "agreement_no", "auto_pay",
          "bank_account_id", "bank_code", "code", "enabled", "holder_is_other", "holder_name", "id_number",
          "id_type", "insurance", "mode", "note", "on", "other_id_number", "other_id_type", "other_name",
          "password", "reason", "username", "reason_type", "reason_text", "before", "actor", "target", "month",
          "from", "to", "q", "page", "limit", "order_no", "amount", "date", "year", "query", "new_password",
          "confirm", "sms_code"]
SKIP = {"/backoffice/logout"}  # fuzzed last: it ends the staff session


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(PREFIXES) and rule.rule not in SKIP:
            for method in sorted(rule.methods & {"GET", "POST"}):
                yield rule, method


def paths(rule) -> list[str]:
    """The rule's address with each of the hostile values in every path argument (a valid one too)."""
    if not rule.arguments:
        return [rule.rule]
    out = []
    for value in PATH_VALUES:
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(r"<(?:[a-z]+:)?" + name + r">", "tax_app" if name == "channel" else value, path)
        out.append(path)
    return out


def form(value: str, *, csrf: str | None = CSRF) -> str:
    body = "&".join(f"{name}={value}" for name in FIELDS)
    return body + (f"&csrf_token={csrf}" if csrf is not None else "")


def check(answer, what: str, problems: list[str]) -> None:
    status = answer.status_code
    if status >= 500:
        problems.append(f"{status} {what}")
        return
    if 300 <= status < 400:
        return
    if answer.mimetype == "text/html":
        body = answer.get_data(as_text=True)
        english = [e for e in ENGLISH_ERRORS if e in body]
        if english or (status >= 400 and not CHINESE.search(body)):
            problems.append(f"{status} English page {english} {what}")
    elif answer.is_json and status >= 400:
        message = (answer.get_json(silent=True) or {}).get("message")
        if not isinstance(message, str) or not CHINESE.search(message):
            problems.append(f"{status} JSON without a Chinese message {answer.get_data()[:200]!r} {what}")


def fuzz(client, rule_filter, problems: list[str], headers=None, json_api=False) -> int:
    sent = 0
    for rule, method in routes(client.application):
        if not rule_filter(rule.rule):
            continue
        for i, path in enumerate(paths(rule)):  # every value at the first address, a few at the others
            for value in HOSTILE if i == 0 else HOSTILE[1::4]:
                if method == "GET":
                    url = f"{path}?" + "&".join(f"{name}={value}" for name in FIELDS)
                    answer = client.get(url, headers=headers)
                elif json_api:
                    answer = client.post(path, data=form(value, csrf=None), headers=headers,
                                         content_type="application/json")
                else:
                    answer = client.post(path, data=form(value), headers=headers,
                                         content_type="application/x-www-form-urlencoded")
                check(answer, f"{method} {path[:120]} value={value[:40]}", problems)
                sent += 1
            if method == "POST" and not json_api:  # no fields at all, and a non-ASCII CSRF token
                for body in ("", f"csrf_token={CSRF}", "csrf_token=%E4%B8%AD", "csrf_token=%ED%A0%80",
                             f"csrf_token={CSRF}&" + "&".join(f"{n}=1&{n}=2" for n in FIELDS)):
                    answer = client.post(path, data=body, headers=headers,
                                         content_type="application/x-www-form-urlencoded")
                    check(answer, f"POST {path[:120]} body={body[:40]}", problems)
                    sent += 1
    return sent


def with_csrf(client) -> None:
    with client.session_transaction() as s:
        s["csrf"] = CSRF


def test_the_refund_and_agreement_pages_stand_hostile_input(app, client, zhang_paid, clock):
    clock.set(IN_TREASURY)
    phone = phone_of_record(app, ZHANG)
    register(client, ZHANG, "zhangwei", phone)
    payer_sign_in(client, "zhangwei", phone)
    with_csrf(client)
    problems: list[str] = []
    sent = fuzz(client, lambda r: r.startswith(("/refunds", "/etax/agreements", "/tax-app/agreements")), problems)
    assert not problems, "\n".join(problems[:40])
    assert sent > 400
    assert client.get("/refunds/tax_app/").status_code == 200  # still signed in: the fuzzing reached the views


def test_the_back_office_stands_hostile_input(app, runner, clock):
    client = app.test_client()
    staff_sign_in(client, "zhao.all", create_staff(runner, "zhao.all", *ROLES), clock)
    with_csrf(client)
    problems: list[str] = []
    sent = fuzz(client, lambda r: r.startswith("/backoffice") and not r.startswith("/backoffice/login"), problems)
    assert client.get("/backoffice/").status_code == 200  # still signed in
    for value in HOSTILE[:8]:  # the sign-in forms, signed out
        anonymous = app.test_client()
        with_csrf(anonymous)
        for path in ("/backoffice/login", "/backoffice/login/second-factor", "/backoffice/logout"):
            check(anonymous.post(path, data=form(value), content_type="application/x-www-form-urlencoded"),
                  f"POST {path} value={value[:40]}", problems)
    answer = client.post("/backoffice/logout", data=form("%00"), content_type="application/x-www-form-urlencoded")
    check(answer, "POST /backoffice/logout", problems)
    assert not problems, "\n".join(problems[:40])
    assert sent > 300


@pytest.mark.parametrize("path", ["/backoffice/no-such-page", "/backoffice/refunds/x/y/z", "/backoffice/%00",
                                  "/backoffice/login/x"])
def test_an_unknown_back_office_address_is_the_back_offices_own_page(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert "页面或记录不存在" in answer.get_data(as_text=True)


def test_the_back_office_answers_a_wrong_method_with_its_own_page(client):
    answer = client.delete("/backoffice/login")
    assert answer.status_code == 405 and answer.mimetype == "text/html"
    assert "该页面不能这样打开" in answer.get_data(as_text=True)


def test_the_refund_api_stands_hostile_input(app, client, zhang_paid, clock):
    clock.set(IN_TREASURY)
    _, headers = session(client, ZHANG)
    problems: list[str] = []
    sent = fuzz(client, lambda r: r.startswith("/api/v1/refund-applications"), problems, headers=headers,
                json_api=True)
    big, long_text = 2 ** 64, "退" * 100000
    bodies = [None, [], "text", 1, {"insurance": None}, {"insurance": ["pension"]},
              {"insurance": "pension", "reason_type": "duplicate", "reason_text": long_text, "bank_account_id": big,
               "assessment_ids": [big]},
              {"insurance": "pension", "reason_type": "duplicate", "reason_text": "\x00", "bank_account_id": -1,
               "assessment_ids": [-1, 0]},
              {"insurance": "pension", "reason_type": "duplicate", "reason_text": "\ufffe", "bank_account_id": 1.5,
               "assessment_ids": "1"},
              {"insurance": "pension", "reason_type": "duplicate", "reason_text": "重复", "bank_account_id": "1",
               "assessment_ids": [1] * 10000},
              {"insurance": "pension", "reason_type": "duplicate", "reason_text": "重复", "bank_account_id": 1,
               "assessment_ids": [{"id": 1}]}]
    for body in bodies:
        for path in ("/api/v1/refund-applications", "/api/v1/refund-applications/TF1/bank-account",
                     f"/api/v1/refund-applications/{big}/bank-account"):
            answer = client.post(path, json=body, headers=headers)
            check(answer, f"POST {path} json={str(body)[:60]}", problems)
    raw = b'{"insurance": "pension", "reason_text": "\\ud800\\u0000", "bank_account_id": 18446744073709551616}'
    check(client.post("/api/v1/refund-applications", data=raw, headers=headers, content_type="application/json"),
          "POST raw surrogate JSON", problems)
    check(client.post("/api/v1/refund-applications", data=b"{not json", headers=headers,
                      content_type="application/json"), "POST broken JSON", problems)
    for value in ("0000-01", "9999-99", "9999-12", "0001-01", "%00", "%ED%A0%80", "2026-11-01"):
        url = f"/api/v1/refund-applications/items?insurance=pension&period_start={value}&period_end={value}"
        check(client.get(url, headers=headers), f"GET {url}", problems)
    check(client.get("/api/v1/refund-applications/items?insurance=pension&period_start=0001-01&period_end=9999-12",
                     headers=headers), "GET items over ten thousand years", problems)
    assert not problems, "\n".join(problems[:40])
    assert sent > 50
