"""Reminders (催缴提醒) on PostgreSQL: before a due date and after a failed batch debit, by the payer's channel,
once, not to those who opted out; and what the bureau sees of them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from app.adapters import tables as t
from app.services import reminders
from tests.backoffice.support import create_staff, sign_in
from tests.integration.test_orders import create, declared  # noqa: F401 (fixture)


def ports(container):
    return container.backoffice.reminders


def phone_of(container, person_id):
    with container.uow() as uow:
        return uow.persons.get(person_id).phone


def test_an_unpaid_month_is_reminded_by_sms_three_days_before_its_due_date_once(container, declared, clock):
    phone = phone_of(container, declared[0])
    clock.set(clock.now() + timedelta(days=5))  # 2026-11-28: November's fee is due on the 30th
    counts = reminders.send_reminders(ports(container), container.uow())
    assert counts == {"sent": 1}  # September and October are overdue already: a reminder is for before
    inbox = container.sms.messages(phone)  # 张伟's phone on record
    assert "2026-11的基本养老保险费1000.00元" in inbox[0]["text"] and "2026-11-30前缴纳" in inbox[0]["text"]
    assert reminders.send_reminders(ports(container), container.uow()) == {}  # nothing twice
    assert len(container.sms.messages(phone)) == 1
    shown = reminders.list_sent(ports(container))
    assert shown[0]["channel_label"] == "短信" and shown[0]["recipient"] == phone[:3] + "****" + phone[-4:]


def test_a_payer_who_came_through_wechat_gets_a_subscribe_message(container, declared, clock):
    person_id, _ = declared
    container.channels.identities.bind_self("wechat_oa", "oWx-zhangwei-openid-0001", person_id, clock.now())
    clock.set(clock.now() + timedelta(days=5))
    assert reminders.send_reminders(ports(container), container.uow()) == {"sent": 1}
    sent = ports(container).notifiers["wechat"].messages("oWx-zhangwei-openid-0001")
    assert sent[0]["data"]["amount3"]["value"] == "1000.00元" and sent[0]["data"]["time4"]["value"] == "2026-11-30"
    assert container.sms.messages(phone_of(container, person_id)) == []


def test_opted_out_payers_get_nothing_and_the_bureau_sees_why(container, declared, clock):
    person_id, _ = declared
    reminders.opt_out(person_id, "wechat_oa", ports(container))
    clock.set(clock.now() + timedelta(days=5))
    assert reminders.send_reminders(ports(container), container.uow()) == {"opted_out": 1}
    assert container.sms.messages(phone_of(container, person_id)) == []
    assert reminders.list_sent(ports(container))[0]["state_label"] == "缴费人已退订，未发送"


def test_a_failed_batch_debit_is_reminded_and_shown_in_the_back_office(app, container, declared, clock, runner):
    person_id, ids = declared
    order = create(container, person_id, ids[:1], amount=100000)
    with container.engine.begin() as conn:
        order_id = conn.execute(select(t.payment_order.c.id).where(t.payment_order.c.order_no == order["order_no"])
                                ).scalar_one()
        batch = conn.execute(insert(t.debit_batch).values(
            batch_key="370200:20261120", file_id="F20261120", region="370200", due_date=clock.now().date(),
            state="done", line_count=1, sum_fen=100000, collected_through=0, posted_through=0, succeeded_count=0,
            succeeded_fen=0, failed_count=1, pending_count=0, attempts=1, created_at=clock.now(),
            updated_at=clock.now()).returning(t.debit_batch.c.id)).scalar_one()
        conn.execute(insert(t.debit_batch_line).values(
            batch_id=batch, line_key="20261120-1", assessment_id=ids[0],
            assessment_period_start=t.period_start_of(ids[0]), order_id=order_id, person_id=person_id,
            agreement_id=1, agreement_no="A1", amount_fen=100000, state="failed", result_code="51",
            reason="余额不足", settled_at=clock.now()))
    assert reminders.send_reminders(ports(container), container.uow()) == {"sent": 1}
    phone = phone_of(container, person_id)
    assert "自动扣款未成功（余额不足）" in container.sms.messages(phone)[0]["text"]
    client = app.test_client()
    sign_in(client, "zhao.ji", create_staff(runner, "zhao.ji", "audit"), clock)
    page = client.get("/backoffice/reminders").get_data(as_text=True)
    assert "批量扣款失败提醒" in page and phone[:3] + "****" + phone[-4:] in page and "已发送" in page
    assert phone not in page


def test_the_cli_sends_and_records_opt_outs(runner, container, declared, clock):
    from tests.e2e.test_api_core_flow import ZHANG

    result = runner.invoke(args=["reminders", "opt-out", "--id-number", ZHANG["id_number"], "--via", "counter"])
    assert result.exit_code == 0, result.output
    clock.set(clock.now() + timedelta(days=5))
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0 and '"opted_out": 1' in result.output
