"""Two requests filing the same thing at the same moment: the unique index decides, the loser hears 409.

The first request's insert is held uncommitted while the second waits on the index (``tests/races.py``);
the second must come back as a domain answer (a Conflict, or a lost compare-and-set), never as an
IntegrityError (a 500).
"""
from __future__ import annotations

from app.domain.agreements import SIGNED_ONLINE, DebitAgreement
from app.domain.bank_accounts import BankAccount
from app.domain.errors import Conflict
from app.domain.payment_password import PaymentPassword
from tests.integration.debit.conftest import CARD
from tests.races import in_own_unit_of_work, race


def account(person_id: int, clock) -> BankAccount:
    return BankAccount(person_id=person_id, bank_code="ccb", account_kind="card", account_no=CARD, holder_name="张伟",
                       created_at=clock.now())


def test_the_same_account_filed_twice_at_once_answers_bank_account_exists(container, zhang, clock):
    file_it = in_own_unit_of_work(container, lambda uow: uow.bank_accounts.add(account(zhang, clock)))
    lost = race(container, lambda uow: uow.bank_accounts.add(account(zhang, clock)), file_it)
    assert isinstance(lost, Conflict) and (lost.code, lost.http_status) == ("bank_account_exists", 409), lost
    with container.uow() as uow:
        assert len(uow.bank_accounts.list_for_person(zhang)) == 1


def test_two_agreements_with_auto_pay_at_once_answer_auto_pay_taken(container, zhang, clock):
    with container.uow() as uow:
        filed = uow.bank_accounts.add(account(zhang, clock))
        uow.commit()

    def sign(request_id):
        return lambda uow: uow.agreements.add(DebitAgreement.new(zhang, zhang, filed.id, SIGNED_ONLINE, request_id,
                                                                 clock.now(), auto_pay=True))

    lost = race(container, sign("SG-FIRST"), in_own_unit_of_work(container, sign("SG-SECOND")))
    assert isinstance(lost, Conflict) and (lost.code, lost.field) == ("auto_pay_taken", "auto_pay"), lost
    with container.uow() as uow:
        assert [a.request_id for a in uow.agreements.list_for_persons([zhang])] == ["SG-FIRST"]


def test_switching_auto_pay_on_for_two_agreements_at_once_answers_auto_pay_taken(container, zhang, clock):
    with container.uow() as uow:
        filed = uow.bank_accounts.add(account(zhang, clock))
        first, second = (uow.agreements.add(DebitAgreement.new(zhang, zhang, filed.id, SIGNED_ONLINE, f"SG-{n}",
                                                                clock.now())) for n in (1, 2))
        uow.commit()

    def switch_on(agreement_id):
        def run(uow):
            agreement = uow.agreements.get(agreement_id)
            agreement.switch_auto_pay(True, clock.now())
            return uow.agreements.save(agreement)
        return run

    lost = race(container, switch_on(first.id), in_own_unit_of_work(container, switch_on(second.id)))
    assert isinstance(lost, Conflict) and lost.code == "auto_pay_taken", lost
    with container.uow() as uow:
        assert [a.auto_pay for a in uow.agreements.list_for_persons([zhang])] == [True, False]


def test_two_first_saves_of_a_payment_password_at_once_lose_as_a_compare_and_set(container, zhang, clock):
    def first_save(code_hash):
        return lambda uow: uow.payment_passwords.save(PaymentPassword(person_id=zhang, code_hash=code_hash),
                                                      clock.now())

    assert race(container, first_save("first"), in_own_unit_of_work(container, first_save("second"))) is False
    with container.uow() as uow:
        assert uow.payment_passwords.get(zhang).code_hash == "first"
