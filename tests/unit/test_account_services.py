"""The account services over fakes: registration decisions, no enumeration, single-use codes, sessions."""
from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest

from app.domain.errors import Conflict, InvalidInput, TooManyAttempts, Unauthenticated
from app.domain.model import Person
from app.services import account_login, accounts
from app.services.account_codes import send_code
from tests.account_fakes import fake_deps

ZHANG = {"agreed": True, "name": "张伟", "id_type": "resident_id", "id_number": "370202198503150013",
         "gender": "male", "nationality": "CHN", "username": "zhangwei", "password": "Qd-lingHuo-2026!pay",
         "phone": "13800000002"}
proofs = count()


def human():
    return f"solved{next(proofs)}"


@pytest.fixture
def deps():
    d = fake_deps()
    with d.uow() as uow:
        uow.persons.add(Person("resident_id", "370202198503150013", "张伟", phone="13800000002"))
        uow.commit()
    return d


def register(deps, **change):
    data = {**ZHANG, **change}
    send_code("register", data["phone"], deps)
    return accounts.register_account({**data, "sms_code": deps.sms.last_code(data["phone"])}, deps)


def test_the_phone_on_record_registers_at_once_and_links_the_person(deps):
    assert register(deps)["status"] == "registered"
    with deps.uow() as uow:
        account = uow.accounts.find_by_username("zhangwei")
    assert account.person_id == 1 and account.verified_by == "phone_on_record" and account.password_hash != ZHANG[
        "password"]


def test_another_phone_waits_for_the_identity_check_and_keeps_the_person_sealed(deps):
    pending = register(deps, phone="13911112222")
    stored = deps.store.get("acct:registration:" + pending["registration_id"])
    assert "张伟" not in str(stored) and "370202198503150013" not in str(stored)
    with pytest.raises(Conflict):
        accounts.complete_registration(pending["registration_id"], deps)
    deps.verifier.checks["check-1"] = "passed"
    assert accounts.complete_registration(pending["registration_id"], deps)["status"] == "registered"


def test_an_unknown_user_costs_a_password_verification_like_a_known_one(deps):
    register(deps)
    before = deps.hasher.verifications
    with pytest.raises(Unauthenticated) as unknown:
        account_login.start_login("username", {"username": "nobody", "password": "x" * 12, "human_check": human()}, deps)
    with pytest.raises(Unauthenticated) as wrong:
        account_login.start_login("username", {"username": "zhangwei", "password": "x" * 12, "human_check": human()},
                                  deps)
    assert deps.hasher.verifications - before == 2
    assert (unknown.value.code, unknown.value.message) == (wrong.value.code, wrong.value.message)


def test_a_login_code_opens_one_session_and_the_previous_token_ends(deps):
    register(deps)
    first = account_login.start_login("username", {"username": "zhangwei", "password": ZHANG["password"],
                                                   "human_check": human()}, deps)
    code = deps.sms.last_code("13800000002")
    session = account_login.finish_login(first["challenge"], code, deps, previous_token="old-token")
    assert account_login.session_account(session["session_token"], deps).username == "zhangwei"
    with pytest.raises(Unauthenticated):
        account_login.finish_login(first["challenge"], code, deps)


def test_an_sms_gateway_failure_leaves_no_usable_code(deps):
    deps.sms.down = True
    with pytest.raises(Exception) as failed:
        send_code("register", "13911112222", deps)
    assert getattr(failed.value, "code", "") == "sms_unavailable"
    assert deps.store.get("acct:sms:register:13911112222") is None


def test_codes_per_phone_are_limited(deps):
    for _ in range(3):
        send_code("register", "13911112222", deps)
    with pytest.raises(TooManyAttempts):
        send_code("register", "13911112222", deps)


def test_a_weak_password_is_refused_before_any_code_is_spent(deps):
    send_code("register", "13911112222", deps)
    with pytest.raises(InvalidInput) as refused:
        accounts.register_account({**ZHANG, "phone": "13911112222", "password": "zhangwei2026",
                                   "sms_code": deps.sms.last_code("13911112222")}, deps)
    assert refused.value.code == "password_weak"
    assert deps.store.get("acct:sms:register:13911112222") is not None


def test_idle_sessions_end_on_the_clock(deps):
    register(deps)
    first = account_login.start_login("username", {"username": "zhangwei", "password": ZHANG["password"],
                                                   "human_check": human()}, deps)
    token = account_login.finish_login(first["challenge"], deps.sms.last_code("13800000002"), deps)["session_token"]
    deps.clock.set(deps.clock.now() + timedelta(minutes=30))
    with pytest.raises(Unauthenticated) as expired:
        account_login.session_account(token, deps)
    assert expired.value.code == "account_session_expired"
