"""Many payers with agreements, made set-based for the batch debit tests (and the bench's smaller sibling).

Each payer: a person, a flexible-worker pension enrollment, a base marked for batch debit,
one declared month, a filed card, an active agreement with auto-pay on — and the same
agreement at the sandbox bank. ``kinds`` varies what makes a payer (not) collectable.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from app.adapters import tables as t
from payments.sandbox.bank.ledger import ACTIVE, Agreement


def seed_payers(container, ledger, n: int, region: str = "370200", first: int = 1, period=date(2026, 11, 1),
                amount_fen: int = 79600, batch_debit_allowed: bool = True, auto_pay: bool = True,
                category: str = "flexible", kind: str = "regular") -> list[dict]:
    """Insert ``n`` payers; returns [{person_id, assessment_id, agreement_no, account_no}]."""
    c = container
    now = c.clock.now()
    with c.engine.begin() as conn:
        numbers = range(first, first + n)
        person_ids = conn.execute(insert(t.person).returning(t.person.c.id, sort_by_parameter_order=True), [
            dict(id_type="resident_id", id_number_index=c.cipher.blind_index("resident_id", f"9{i:017d}"),
                 id_number_enc=c.cipher.encrypt(f"9{i:017d}", "person.id_number"),
                 name_enc=c.cipher.encrypt(f"缴费人{i}", "person.name"), created_at=now) for i in numbers]).scalars().all()
        payers = [{"i": i, "person_id": pid, "account_no": f"62{i:017d}", "agreement_no": f"AGT{i:012d}"}
                  for i, pid in zip(numbers, person_ids)]
        enrollment_ids = conn.execute(insert(t.enrollment).returning(t.enrollment.c.id, sort_by_parameter_order=True), [
            dict(person_id=p["person_id"], insurance="pension", region=region, category=category,
                 insured_number=f"T{region}{p['i']:012d}", start_month="2020-01", status="active",
                 source_bureau="hr", created_at=now) for p in payers]).scalars().all()
        choice_ids = conn.execute(insert(t.contribution_choice).returning(t.contribution_choice.c.id,
                                                                          sort_by_parameter_order=True), [
            dict(enrollment_id=e, effective_month="2026-01", base_fen=398000, batch_debit_allowed=batch_debit_allowed,
                 created_at=now) for e in enrollment_ids]).scalars().all()
        assessment_ids = conn.execute(insert(t.assessment).returning(t.assessment.c.id, sort_by_parameter_order=True), [
            dict(enrollment_id=e, person_id=p["person_id"], insurance="pension", region=region, period_start=period,
                 period_end=period.replace(day=28), amount_fen=amount_fen, kind=kind,
                 notice_number=f"N{region}{p['i']:012d}", state="declared_unpaid", base_fen=398000, rate="0.20",
                 choice_id=ch, declared_at=now)
            for p, e, ch in zip(payers, enrollment_ids, choice_ids)]).scalars().all()
        account_ids = conn.execute(insert(t.bank_account).returning(t.bank_account.c.id, sort_by_parameter_order=True), [
            dict(person_id=p["person_id"], bank_code="105", account_kind="passbook",
                 account_no_index=c.cipher.blind_index("bank_account", p["account_no"]),
                 account_no_enc=c.cipher.encrypt(p["account_no"], "bank_account.account_no"),
                 holder_name_enc=c.cipher.encrypt(f"缴费人{p['i']}", "bank_account.holder_name"),
                 holder_is_other=False, created_at=now) for p in payers]).scalars().all()
        conn.execute(insert(t.debit_agreement), [
            dict(payer_person_id=p["person_id"], person_id=p["person_id"], bank_account_id=acc, mode="signed_at_bank",
                 request_id=f"SGT{p['i']:012d}", agreement_no=p["agreement_no"], state="active", auto_pay=auto_pay,
                 created_at=now, updated_at=now, version=1) for p, acc in zip(payers, account_ids)])
    for p, a in zip(payers, assessment_ids):
        p["assessment_id"] = a
        ledger.agreements[p["agreement_no"]] = Agreement(p["agreement_no"], p["account_no"], f"缴费人{p['i']}",
                                                         ACTIVE, now)
    return payers


def states(container, assessment_ids) -> dict[str, int]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(t.assessment.c.state).where(t.assessment.c.id.in_(assessment_ids)))
        out: dict[str, int] = {}
        for r in rows:
            out[r.state] = out.get(r.state, 0) + 1
        return out
