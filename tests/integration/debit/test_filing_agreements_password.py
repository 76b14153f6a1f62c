"""Bank account filing, agreements and the payment password on PostgreSQL against the sandbox bank."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.adapters import tables as t
from app.domain.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from app.services import agreements, bank_accounts, payment_password as pw
from tests.integration.debit.conftest import CARD


def file_card(c, person_id, number=CARD, holder="张伟", **extra):
    return bank_accounts.file_bank_account(person_id, [person_id], dict(
        bank_code="105", account_kind="card", account_no=number, holder_name=holder, **extra), c.uow(), c.clock)


def test_a_filed_card_is_stored_encrypted_and_shown_masked(container, zhang):
    view = file_card(container, zhang, "6222 0202 0011 2233 446")
    assert view["account_no"] == "6222 **** **** 3446" and view["holder_name"] == "张*"
    with container.engine.connect() as conn:
        row = conn.execute(select(t.bank_account)).one()
    assert CARD.encode() not in bytes(row.account_no_enc) and row.account_no_index != CARD


@pytest.mark.parametrize("number, code", [("6222020200112233445", "account_no_invalid"),
                                          ("62220202", "account_no_invalid"), ("", "account_no_required")])
def test_a_wrong_card_number_is_refused_and_nothing_is_filed(container, zhang, number, code):
    with pytest.raises(InvalidInput) as refused:
        file_card(container, zhang, number)
    assert refused.value.code == code
    assert bank_accounts.list_bank_accounts([zhang], container.uow()) == []


def test_an_account_of_another_holder_needs_their_document_and_one_of_ones_own_their_name(container, zhang):
    with pytest.raises(InvalidInput) as refused:
        file_card(container, zhang, holder="李秀英")
    assert refused.value.code == "holder_name_mismatch"
    view = file_card(container, zhang, holder="李秀英", holder_is_other=True, holder_id_type="resident_id",
                     holder_id_number="370203197811020247")
    assert view["holder_is_other"] and view["holder_name"] == "李*英"
    with pytest.raises(Conflict):
        file_card(container, zhang, holder="李秀英", holder_is_other=True, holder_id_number="370203197811020247")


def sign(c, person_id, account_id, mode="signed_online", **extra):
    return agreements.sign_agreement(person_id, [person_id], dict(person_id=person_id, bank_account_id=account_id,
                                                                    mode=mode, **extra), c.uow(), c.bank, c.clock)


def test_an_agreement_signed_at_the_bank_is_active_once_the_bank_confirms_its_number(container, zhang, bank):
    account = file_card(container, zhang)
    with pytest.raises(InvalidInput) as refused:
        sign(container, zhang, account["id"], "signed_at_bank", agreement_no="AG000")
    assert refused.value.code == "agreement_not_confirmed"
    assert agreements.list_agreements([zhang], container.uow()) == []
    number = bank.counter_agreement(CARD, "张伟")
    view = sign(container, zhang, account["id"], "signed_at_bank", agreement_no=number, auto_pay=True)
    assert (view["state"], view["agreement_no"], view["auto_pay"]) == ("active", number, True)


def test_an_online_agreement_waits_for_the_bank_and_the_job_activates_it(container, zhang, bank, clock):
    bank.faults(verify_delay_seconds=600)
    view = sign(container, zhang, file_card(container, zhang)["id"])
    assert view["state"] == "verifying" and view["state_label"] == "等待银行验证"
    assert agreements.refresh_agreements(container.uow(), container.bank, clock) == {"pending": 1}
    clock.set(clock.now() + timedelta(minutes=10))
    assert agreements.refresh_agreements(container.uow(), container.bank, clock) == {"active": 1}
    shown = agreements.show_agreement(view["id"], [zhang], container.uow())
    assert shown["state"] == "active" and [h["kind"] for h in shown["history"]] == ["created", "activated"]


def test_an_online_agreement_the_bank_never_heard_of_is_signed_again_under_the_same_request(container, zhang, bank):
    bank.faults(api_5xx=True)
    view = sign(container, zhang, file_card(container, zhang)["id"])
    assert view["state"] == "verifying" and not bank.ledger.agreements
    bank.faults(api_5xx=False)
    assert agreements.refresh_agreements(container.uow(), container.bank, container.clock) == {"active": 1}
    assert agreements.refresh_agreements(container.uow(), container.bank, container.clock) == {}
    assert len(bank.ledger.agreements) == 1


def test_the_bank_rejects_an_account_that_is_closed(container, zhang, bank):
    bank.accounts(**{CARD: {"status": "closed"}})
    view = sign(container, zhang, file_card(container, zhang)["id"])
    assert view["state"] == "rejected" and view["reason"]


def test_an_agreement_for_another_insured_person_with_a_third_holder(container, zhang, bank):
    with container.uow() as uow:
        li = uow.persons.find_by_document("resident_id", "370203197811020247").id
    account = bank_accounts.file_bank_account(li, [zhang, li], dict(
        bank_code="105", account_kind="card", account_no=CARD, holder_name="张伟", holder_is_other=True,
        holder_id_number="370202198503150013"), container.uow(), container.clock)
    view = agreements.sign_agreement(zhang, [zhang, li], dict(person_id=li, bank_account_id=account["id"],
                                                              mode="signed_online"),
                                     container.uow(), container.bank, container.clock)
    assert view["for_other"] and view["insured"]["name"] == "李*英" and view["state"] == "active"
    assert [a["id"] for a in agreements.list_agreements([zhang], container.uow())] == [view["id"]]
    with pytest.raises(NotFound):
        agreements.sign_agreement(zhang, [zhang], dict(person_id=li, bank_account_id=account["id"],
                                                       mode="signed_online"),
                                  container.uow(), container.bank, container.clock)


def test_revoking_ends_the_agreement_at_the_bank_and_here_once(container, zhang, bank):
    view = sign(container, zhang, file_card(container, zhang)["id"], auto_pay=True)
    revoked = agreements.revoke_agreement(view["id"], [zhang], container.uow(), container.bank, container.clock)
    assert (revoked["state"], revoked["auto_pay"]) == ("revoked", False)
    assert bank.ledger.agreements[view["agreement_no"]].status == "revoked"
    with pytest.raises(Conflict):
        agreements.revoke_agreement(view["id"], [zhang], container.uow(), container.bank, container.clock)
    with pytest.raises(Conflict):
        agreements.switch_auto_pay(view["id"], True, [zhang], container.uow(), container.clock)


def test_revoking_while_the_bank_is_down_changes_nothing(container, zhang, bank):
    view = sign(container, zhang, file_card(container, zhang)["id"])
    bank.faults(api_5xx=True)
    with pytest.raises(Exception) as refused:
        agreements.revoke_agreement(view["id"], [zhang], container.uow(), container.bank, container.clock)
    assert refused.value.code == "bank_unavailable"
    assert agreements.show_agreement(view["id"], [zhang], container.uow())["state"] == "active"


def test_only_one_live_agreement_of_a_person_has_auto_pay_on(container, zhang, bank):
    first = sign(container, zhang, file_card(container, zhang)["id"], auto_pay=True)
    second = sign(container, zhang, file_card(container, zhang, "6222020200112233453")["id"])
    with pytest.raises(Conflict) as taken:
        agreements.switch_auto_pay(second["id"], True, [zhang], container.uow(), container.clock)
    assert taken.value.code == "auto_pay_taken"
    agreements.switch_auto_pay(first["id"], False, [zhang], container.uow(), container.clock)
    assert agreements.switch_auto_pay(second["id"], True, [zhang], container.uow(), container.clock)["auto_pay"]


def test_a_stale_copy_of_an_agreement_cannot_be_saved(container, zhang, bank):
    view = sign(container, zhang, file_card(container, zhang)["id"])
    with container.uow() as uow:
        stale = uow.agreements.get(view["id"])
    agreements.switch_auto_pay(view["id"], True, [zhang], container.uow(), container.clock)
    stale.revoke(container.clock.now())
    with container.uow() as uow:
        assert uow.agreements.save(stale) is False


def set_password(c, person_id, password="258147"):
    pw.send_password_code(person_id, c.uow(), c.sms, c.clock, c.password_rules)
    with c.uow() as uow:
        phone = uow.persons.get(person_id).phone
    code = c.sms.messages(phone)[0]["text"].split("验证码")[1][:6]
    return pw.set_payment_password(person_id, code, password, password, c.uow(), c.password_hasher, c.clock,
                                   c.password_rules)


def test_the_payment_password_is_set_with_the_sms_code_and_stored_as_argon2id(container, zhang):
    with pytest.raises(InvalidInput) as refused:
        pw.set_payment_password(zhang, "000000", "258147", "258147", container.uow(), container.password_hasher,
                                container.clock, container.password_rules)
    assert refused.value.code == "sms_code_expired"
    assert set_password(container, zhang) == {"is_set": True, "enabled": True, "locked": False, "locked_until": None}
    with container.engine.connect() as conn:
        assert conn.execute(select(t.payment_password.c.password_hash)).scalar_one().startswith("$argon2id$")


@pytest.mark.parametrize("password, again, code", [("258147", "258148", "payment_password_mismatch"),
                                                   ("123456", "123456", "payment_password_weak"),
                                                   ("25814", "25814", "payment_password_format")])
def test_a_new_password_must_be_six_digits_entered_twice_and_not_trivial(container, zhang, password, again, code):
    with pytest.raises(InvalidInput) as refused:
        pw.set_payment_password(zhang, "000000", password, again, container.uow(), container.password_hasher,
                                container.clock, container.password_rules)
    assert refused.value.code == code


def test_three_wrong_passwords_lock_for_three_minutes_by_the_clock(container, zhang, clock):
    set_password(container, zhang)
    check = lambda p: pw.check_payment_password(zhang, p, container.uow(), container.password_hasher, clock,  # noqa: E731
                                                container.password_rules)
    for left in (2, 1):
        with pytest.raises(InvalidInput, match=f"还可尝试{left}次"):
            check("111111")
    with pytest.raises(TooManyAttempts) as locked:
        check("111111")
    assert locked.value.details["logout"] is True
    clock.set(clock.now() + timedelta(minutes=2, seconds=59))
    with pytest.raises(TooManyAttempts) as still:
        check("258147")  # even the right one, while locked
    assert still.value.code == "payment_password_locked"
    clock.set(clock.now() + timedelta(seconds=1))
    check("258147")


def test_a_disabled_password_is_not_asked_for_and_disabling_needs_it(container, zhang):
    set_password(container, zhang)
    c = container
    with pytest.raises(InvalidInput):
        pw.set_password_enabled(zhang, False, "111111", c.uow(), c.password_hasher, c.clock, c.password_rules)
    assert not pw.set_password_enabled(zhang, False, "258147", c.uow(), c.password_hasher, c.clock,
                                       c.password_rules)["enabled"]
    pw.check_payment_password(zhang, None, c.uow(), c.password_hasher, c.clock, c.password_rules)


def test_an_sms_code_is_not_sent_twice_within_a_minute(container, zhang, clock):
    pw.send_password_code(zhang, container.uow(), container.sms, clock, container.password_rules)
    with pytest.raises(TooManyAttempts):
        pw.send_password_code(zhang, container.uow(), container.sms, clock, container.password_rules)
    clock.set(clock.now() + timedelta(seconds=60))
    pw.send_password_code(zhang, container.uow(), container.sms, clock, container.password_rules)


def test_an_agreement_number_already_registered_cannot_be_signed_again(container, zhang, bank):
    account = file_card(container, zhang)
    number = bank.counter_agreement(CARD, "张伟")
    sign(container, zhang, account["id"], "signed_at_bank", agreement_no=number)
    with pytest.raises(Conflict) as taken:
        sign(container, zhang, account["id"], "signed_at_bank", agreement_no=number)
    assert taken.value.code == "agreement_no_in_use"
