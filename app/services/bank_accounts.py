"""Bank account filing (存款账户账号备案, seed 004): file, list and remove a payer's accounts.

An account is filed for an insured person. Its holder is that person (the name must match),
or another person (人卡分离), whose document is then checked and kept encrypted too.
"""
from __future__ import annotations

from app.domain.bank_accounts import (ACCOUNT_KINDS, BankAccount, bank_account_exists, check_bank_code,
                                      check_holder_name, mask_account_no, normalize_account_no)
from app.domain.documents import IdType, mask_name, normalize_document
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.services.ports import Clock, UnitOfWork


def file_bank_account(person_id: int, person_ids: list[int], data: dict, uow: UnitOfWork, clock: Clock) -> dict:
    """File an account for one of the identified insured persons; answers it masked."""
    if person_id not in person_ids:
        raise NotFound("person_not_identified", "请先确认参保人身份", field="person_id")
    bank_code = check_bank_code(data.get("bank_code", ""))
    kind = data.get("account_kind", "")
    account_no = normalize_account_no(kind, data.get("account_no", ""))
    holder = check_holder_name(data.get("holder_name", ""))
    other = bool(data.get("holder_is_other"))
    holder_id_type = holder_id_number = None
    now = clock.now()
    with uow:
        person = uow.persons.get(person_id)
        if other:
            holder_id_type = data.get("holder_id_type") or IdType.RESIDENT_ID.value
            holder_id_number = normalize_document(holder_id_type, data.get("holder_id_number", ""), today=now.date())
            if holder_id_number == person.id_number:
                raise InvalidInput("holder_is_self", "持卡人为参保人本人时无需选择人卡分离", field="holder_is_other")
        elif holder != person.name:
            raise InvalidInput("holder_name_mismatch", "账户户名与参保人姓名不一致，如为他人账户请选择人卡分离",
                               field="holder_name")
        if uow.bank_accounts.find_live(person_id, account_no):
            raise bank_account_exists()
        account = uow.bank_accounts.add(BankAccount(
            person_id=person_id, bank_code=bank_code, account_kind=kind, account_no=account_no, holder_name=holder,
            holder_is_other=other, holder_id_type=holder_id_type, holder_id_number=holder_id_number, created_at=now))
        uow.audit.record("bank_account.filed", f"person:{person_id}", {"bank_account_id": account.id}, now)
        uow.commit()
    return bank_account_view(account)


def list_bank_accounts(person_ids: list[int], uow: UnitOfWork) -> list[dict]:
    """The accounts filed for the identified persons, masked."""
    with uow:
        return [bank_account_view(a) for pid in person_ids for a in uow.bank_accounts.list_for_person(pid)]


def remove_bank_account(account_id: int, person_ids: list[int], uow: UnitOfWork, clock: Clock) -> None:
    """Take a filed account off the list; one a live agreement uses stays."""
    with uow:
        account = uow.bank_accounts.get(account_id)
        if account is None or account.person_id not in person_ids or account.removed_at:
            raise NotFound("bank_account_not_found", "未找到该备案账户", field="account_id")
        if any(a.is_live and a.bank_account_id == account_id for a in uow.agreements.list_for_persons(person_ids)):
            raise Conflict("bank_account_in_use", "该账户有生效中的委托扣款协议，请先撤销协议")
        uow.bank_accounts.remove(account_id, clock.now())
        uow.commit()


def bank_account_view(a: BankAccount) -> dict:
    return {"id": a.id, "person_id": a.person_id, "bank_code": a.bank_code, "bank_name": a.bank_name,
            "account_kind": a.account_kind, "account_kind_label": ACCOUNT_KINDS[a.account_kind],
            "account_no": mask_account_no(a.account_no), "holder_name": mask_name(a.holder_name),
            "holder_is_other": a.holder_is_other}
