"""The reconciliation rules: which comparison of statement, order and assessments is which difference."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from app.domain import reconciliation as r
from app.domain.errors import InvalidInput
from app.domain.reconciliation import OrderComparison, RefundComparison


def order(lines=1, fen=10000, state="posted", amount=10000, in_day=True, posted=10000, refunded=0, no="O1"):
    return OrderComparison(no, lines, fen, state, amount, in_day, posted, refunded)


def refund(lines=1, fen=10000, state="succeeded", amount=10000, in_day=True, order_amount=10000, posted=0,
           refunded=10000, no="R1"):
    return RefundComparison(no, "O1", lines, fen, state, amount, in_day, order_amount, posted, refunded)


def kinds(differences):
    return [d.kind for d in differences]


def test_a_posted_order_the_provider_lists_once_with_its_amount_is_no_difference():
    assert r.order_differences(order()) == []


def test_a_debit_of_an_order_we_do_not_have_is_missing_here():
    found = r.order_differences(order(state=None, amount=None, posted=0, in_day=False))
    assert kinds(found) == [r.MISSING_HERE]
    assert (found[0].provider_amount_fen, found[0].our_amount_fen, found[0].key) == (10000, None, "missing_here:O1")


@pytest.mark.parametrize("state", ["created", "paying", "closed"])
def test_a_debit_of_an_order_we_hold_as_unpaid_is_missing_here(state):
    assert kinds(r.order_differences(order(state=state, posted=0))) == [r.MISSING_HERE]


def test_our_debit_of_the_day_the_provider_does_not_list_is_missing_there():
    found = r.order_differences(order(lines=0, fen=0))
    assert kinds(found) == [r.MISSING_THERE] and found[0].provider_amount_fen is None


def test_our_debit_of_another_day_absent_from_this_statement_is_no_difference():
    assert r.order_differences(order(lines=0, fen=0, in_day=False)) == []


def test_a_debit_of_another_amount_differs():
    found = r.order_differences(order(fen=9999))
    assert kinds(found) == [r.AMOUNT_DIFFERS]
    assert (found[0].provider_amount_fen, found[0].our_amount_fen) == (9999, 10000)


def test_one_order_debited_twice_is_posted_twice():
    assert kinds(r.order_differences(order(lines=2, fen=20000))) == [r.POSTED_TWICE]


def test_a_debit_neither_posted_nor_refunded_is_not_settled():
    assert kinds(r.order_differences(order(state="succeeded", posted=0))) == [r.NOT_SETTLED]


def test_a_debit_posted_only_in_part_is_not_settled():
    assert kinds(r.order_differences(order(posted=6000))) == [r.NOT_SETTLED]


def test_a_debit_refunded_in_full_and_not_posted_is_no_difference():
    assert r.order_differences(order(state="refunded", posted=0, refunded=10000)) == []
    assert r.order_differences(order(state="refunding", posted=0, refunded=10000)) == []


def test_a_refund_we_asked_for_listed_with_its_amount_is_no_difference():
    assert r.refund_differences(refund()) == []


def test_a_refund_we_never_asked_for_is_unknown_here():
    found = r.refund_differences(refund(state=None, amount=None, refunded=0, posted=10000))
    assert kinds(found) == [r.REFUND_UNKNOWN_HERE] and found[0].key == "refund_unknown_here:R1"


def test_our_refund_of_the_day_the_provider_does_not_list_is_missing_there():
    assert kinds(r.refund_differences(refund(lines=0, fen=0))) == [r.REFUND_MISSING_THERE]
    assert kinds(r.refund_differences(refund(lines=0, fen=0, state="pending"))) == [r.REFUND_MISSING_THERE]
    assert r.refund_differences(refund(lines=0, fen=0, state="failed")) == []


def test_a_refund_of_another_amount_differs():
    assert kinds(r.refund_differences(refund(fen=5000))) == [r.REFUND_AMOUNT_DIFFERS]


def test_a_refund_the_provider_made_of_what_we_hold_as_failed_is_named():
    assert kinds(r.refund_differences(refund(state="failed", refunded=0))) == [r.REFUND_FAILED_HERE]


def test_money_refunded_while_the_assessments_stay_paid_is_refunded_but_still_posted():
    found = r.refund_differences(refund(posted=10000, refunded=10000))
    assert kinds(found) == [r.REFUNDED_BUT_STILL_POSTED] and found[0].key == "refunded_but_still_posted:R1"


def test_a_part_refund_beside_the_part_still_posted_is_no_difference():
    assert r.refund_differences(refund(fen=4000, amount=4000, posted=6000, refunded=4000)) == []


def test_the_key_of_a_difference_is_the_same_on_every_run():
    first = r.order_differences(order(fen=9999))[0]
    again = r.order_differences(order(fen=9999))[0]
    assert first.key == again.key == "amount_differs:O1"


def test_a_day_is_the_half_open_shanghai_day():
    window = r.DayWindow.of(date(2026, 11, 22))
    assert window.start.isoformat() == "2026-11-22T00:00:00+08:00"
    assert window.end.isoformat() == "2026-11-23T00:00:00+08:00"
    assert window.start <= datetime.fromisoformat("2026-11-22T15:30:00+00:00") < window.end
    assert not datetime.fromisoformat("2026-11-22T16:30:00+00:00") < window.end


def test_a_day_that_is_no_date_is_refused_with_a_code():
    with pytest.raises(InvalidInput) as refused:
        r.parse_day("2026-13-01")
    assert refused.value.code == "invalid_day"
