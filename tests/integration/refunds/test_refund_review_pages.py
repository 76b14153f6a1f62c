"""The refund review in the back office: 受理 by one staff member, 审核 by another, the four-eyes refusal,
the auditor's read-only view, CSRF, and every action in the staff action log."""
from __future__ import annotations

from datetime import datetime

from app.adapters.clock import SHANGHAI
from app.services import backoffice_staff, bank_accounts, call_worker
from app.services import refund_applications as ra
from tests.backoffice.support import create_staff, csrf, sign_in
from tests.integration.refunds.conftest import CARD

IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


def applied(container, zhang_paid, clock) -> tuple[int, str]:
    person_id, declared, _ = zhang_paid
    clock.set(IN_TREASURY)
    account = bank_accounts.file_bank_account(person_id, [person_id], {
        "bank_code": "105", "account_kind": "card", "account_no": CARD, "holder_name": "张伟"},
        container.uow(), clock)
    made = ra.submit_refund_application(ra.Applicant(person_id), {
        "insurance": "pension", "reason_type": "duplicate", "reason_text": "重复缴费", "bank_account_id": account["id"],
        "assessment_ids": [declared["assessments"][0]["id"]]}, container.uow(), clock, container.certificates)
    return person_id, made["application_no"]


def staff_client(app, runner, clock, username, *roles):
    client = app.test_client()
    secret = create_staff(runner, username, *roles)
    assert sign_in(client, username, secret, clock).status_code == 302
    return client


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf(client), **data})


def test_one_accepts_another_approves_and_the_money_goes_back(app, runner, clock, container, zhang_paid):
    person_id, no = applied(container, zhang_paid, clock)
    a = staff_client(app, runner, clock, "li.si", "accept", "approve")
    b = staff_client(app, runner, clock, "wang.wu", "approve")
    queue = a.get("/backoffice/refunds").get_data(as_text=True)
    assert no in queue and "受理" in queue
    page = a.get(f"/backoffice/refunds/{no}").get_data(as_text=True)
    assert "3702**********0013" in page and "370202198503150013" not in page  # masked
    assert "电子税票号码" in page and 'id="refund-accept"' in page
    assert post(a, f"/backoffice/refunds/{no}/accept").status_code == 302
    refused = post(a, f"/backoffice/refunds/{no}/approve")  # holds 审核 too, but accepted it
    assert refused.status_code == 403 and "受理人不能审核" in refused.get_data(as_text=True)
    assert ra.get_refund_application(no, [person_id], container.uow())["state_label"] == "审核中"
    assert post(b, f"/backoffice/refunds/{no}/approve").status_code == 302
    call_worker.run_due_calls(container.uow(), container.payments)
    assert "已退费" in b.get(f"/backoffice/refunds/{no}").get_data(as_text=True)
    assert ra.get_refund_application(no, [person_id], container.uow())["state_label"] == "已退费"
    actions = [x.action for x in backoffice_staff.list_actions(container.backoffice)]
    assert {"refund_application.accept", "refund_application.approve"} <= set(actions)


def test_the_auditor_reads_but_cannot_act(app, runner, clock, container, zhang_paid):
    _, no = applied(container, zhang_paid, clock)
    auditor = staff_client(app, runner, clock, "zhao.liu", "audit")
    page = auditor.get(f"/backoffice/refunds/{no}").get_data(as_text=True)
    assert "缴费凭据" in page and 'id="refund-accept"' not in page
    assert post(auditor, f"/backoffice/refunds/{no}/accept").status_code == 403
    assert post(auditor, f"/backoffice/refunds/{no}/reject", reason="不符合").status_code == 403


def test_a_forged_request_without_the_csrf_token_changes_nothing(app, runner, clock, container, zhang_paid):
    person_id, no = applied(container, zhang_paid, clock)
    a = staff_client(app, runner, clock, "li.si", "accept")
    assert a.post(f"/backoffice/refunds/{no}/accept", data={}).status_code == 400
    assert ra.get_refund_application(no, [person_id], container.uow())["state_label"] == "受理"


def test_a_rejection_carries_its_reason_to_the_payer(app, runner, clock, container, zhang_paid):
    person_id, no = applied(container, zhang_paid, clock)
    a = staff_client(app, runner, clock, "li.si", "accept")
    assert post(a, f"/backoffice/refunds/{no}/reject", reason="").status_code == 400
    assert post(a, f"/backoffice/refunds/{no}/reject", reason="该月份仅缴费一次，不属于重复缴费").status_code == 302
    seen = ra.get_refund_application(no, [person_id], container.uow())
    assert seen["state_label"] == "不予退费" and seen["decided_reason"] == "该月份仅缴费一次，不属于重复缴费"
