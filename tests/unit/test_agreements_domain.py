"""The agreement's state table, the payment password's rules and bank account validation (no database)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.agreements import ACTIVE, REJECTED, REVOKED, SIGNED_ONLINE, VERIFYING, DebitAgreement
from app.domain.bank_accounts import mask_account_no, normalize_account_no
from app.domain.errors import Conflict, InvalidInput
from app.domain.payment_password import LOCKED, OK, WRONG, PasswordRules, PaymentPassword, check_new_password

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def agreement() -> DebitAgreement:
    return DebitAgreement.new(1, 1, 1, SIGNED_ONLINE, "SG1", NOW)


def test_a_new_agreement_waits_for_the_bank_and_records_its_creation():
    a = agreement()
    assert a.state == VERIFYING and [e.kind for e in a.events] == ["created"]


@pytest.mark.parametrize("moves, final", [
    (["activate"], ACTIVE), (["reject"], REJECTED), (["revoke"], REVOKED), (["activate", "revoke"], REVOKED)])
def test_the_moves_the_state_table_allows(moves, final):
    a = agreement()
    for move in moves:
        {"activate": lambda: a.activate("AG1", NOW), "reject": lambda: a.reject("no", NOW),
         "revoke": lambda: a.revoke(NOW)}[move]()
    assert a.state == final


@pytest.mark.parametrize("first, then", [("revoke", "activate"), ("reject", "revoke"), ("activate", "reject"),
                                         ("revoke", "revoke")])
def test_the_moves_it_refuses_change_nothing(first, then):
    a = agreement()
    moves = {"activate": lambda: a.activate("AG1", NOW), "reject": lambda: a.reject("no", NOW),
             "revoke": lambda: a.revoke(NOW)}
    moves[first]()
    before = (a.state, len(a.events))
    with pytest.raises(Conflict):
        moves[then]()
    assert (a.state, len(a.events)) == before


def test_auto_pay_is_switched_only_on_a_live_agreement_and_off_when_it_ends():
    a = agreement()
    a.switch_auto_pay(True, NOW)
    a.switch_auto_pay(True, NOW)  # no change, no event
    assert a.auto_pay and [e.kind for e in a.events] == ["created", "auto_pay_on"]
    a.revoke(NOW)
    assert not a.auto_pay
    with pytest.raises(Conflict):
        a.switch_auto_pay(True, NOW)


def test_the_third_wrong_entry_locks_and_the_lock_ends_on_the_clock():
    rules, p = PasswordRules(), PaymentPassword(person_id=1, password_hash="h", enabled=True)
    assert [p.record_attempt(False, NOW, rules) for _ in range(3)] == [WRONG, WRONG, LOCKED]
    assert p.is_locked(NOW + timedelta(minutes=2, seconds=59)) and not p.is_locked(NOW + timedelta(minutes=3))
    assert p.record_attempt(True, NOW + timedelta(minutes=3), rules) == OK and p.locked_until is None


def test_a_right_entry_resets_the_count_of_wrong_ones():
    rules, p = PasswordRules(), PaymentPassword(person_id=1, password_hash="h", enabled=True)
    p.record_attempt(False, NOW, rules)
    p.record_attempt(False, NOW, rules)
    p.record_attempt(True, NOW, rules)
    assert p.record_attempt(False, NOW, rules) == WRONG and p.remaining_tries(rules) == 2


@pytest.mark.parametrize("password", ["000000", "123456", "987654", "12345a"])
def test_trivial_or_malformed_passwords_are_refused(password):
    with pytest.raises(InvalidInput):
        check_new_password(password, password)


def test_card_numbers_are_luhn_checked_and_passbooks_only_shaped():
    assert normalize_account_no("card", "６２２２ ０２０２ ００１１ ２２３３ ４４６") == "6222020200112233446"
    with pytest.raises(InvalidInput):
        normalize_account_no("card", "6222020200112233445")
    assert normalize_account_no("passbook", "3702 0000 1234") == "370200001234"
    with pytest.raises(InvalidInput):
        normalize_account_no("passbook", "37020A")
    assert mask_account_no("6222020200112233446") == "6222 **** **** 3446"
