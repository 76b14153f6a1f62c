"""What the account tests share: solving the proof-of-work, reading the SMS sandbox, registering, signing in."""
from __future__ import annotations

import re

import altcha.v1 as altcha

ZHANG = {"name": "张伟", "id_type": "resident_id", "id_number": "370202198503150013"}
UNKNOWN = {"name": "陈静", "id_type": "resident_id", "id_number": "110105199001011232"}
STRONG = "Qd-lingHuo-2026!pay"


def solve(client) -> str:
    """What the browser's ALTCHA solver does: find the number, send the payload back (base64 JSON)."""
    challenge = client.get("/api/v1/accounts/human-check").json
    solution = altcha.solve_challenge(challenge["challenge"], challenge["salt"], challenge["algorithm"],
                                      challenge["maxNumber"])
    return altcha.Payload(challenge["algorithm"], challenge["challenge"], solution.number, challenge["salt"],
                          challenge["signature"]).to_base64()


def last_code(client, phone: str) -> str:
    messages = client.get(f"/sandbox/sms/api/{phone}").json
    assert messages, f"no SMS to {phone}"
    return re.search(r"验证码为(\d{6})", messages[0]["text"]).group(1)


def send_register_code(client, phone: str):
    return client.post("/api/v1/accounts/sms-codes", json={"purpose": "register", "phone": phone,
                                                           "human_check": solve(client)})


def registration(who: dict, username: str, phone: str, **extra) -> dict:
    return {"agreed": True, **who, "gender": "male", "nationality": "CHN", "username": username, "password": STRONG,
            "phone": phone, **extra}


def register(client, who: dict, username: str, phone: str, pass_check: bool = True, **extra) -> dict:
    """Register end to end (code from the sandbox inbox; the identity check passed when one is asked for)."""
    assert send_register_code(client, phone).status_code == 201
    answer = client.post("/api/v1/accounts/registrations",
                         json=registration(who, username, phone, sms_code=last_code(client, phone), **extra))
    assert answer.status_code == 201, answer.json
    if answer.json["status"] == "identity_check_required" and pass_check:
        check_id = answer.json["check_url"].rsplit("/", 1)[1]
        assert client.post(f"/sandbox/identity/api/checks/{check_id}", json={"outcome": "passed"}).status_code == 200
        answer = client.post(f"/api/v1/accounts/registrations/{answer.json['registration_id']}/completion")
        assert answer.status_code == 201, answer.json
    return answer.json


def start_login(client, password: str = STRONG, **who):
    data = {"kind": "username", "password": password, "human_check": solve(client), **who}
    return client.post("/api/v1/accounts/logins", json=data)


def login(client, username: str, phone: str, consent: bool = True, headers: dict | None = None) -> str:
    first = start_login(client, username=username)
    assert first.status_code == 201, first.json
    second = client.post("/api/v1/accounts/logins/second-factor", headers=headers or {},
                         json={"challenge": first.json["challenge"], "sms_code": last_code(client, phone)})
    assert second.status_code == 201, second.json
    token = second.json["session_token"]
    if consent:
        assert client.post("/api/v1/accounts/me/consents", headers={"X-Account-Token": token},
                           json={"version": second.json["consent_version"]}).status_code == 201
    return token


def phone_of_record(app, who: dict) -> str:
    with app.extensions["sbf"].uow() as uow:
        return uow.persons.find_by_document(who["id_type"], who["id_number"]).phone


def count(app, table: str) -> int:
    from sqlalchemy import text

    with app.extensions["sbf"].engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
