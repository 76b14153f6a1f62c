"""The agreement provider against the sandbox bank: agreements, single debits, batch files."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta, timezone

import pytest

from payments.bank import BadBankFile, BatchLine, SignRequest
from payments.base import PrepayRequest, ResultState

CARD = "6222020200112233445"


def _prepay(provider, order_no, agreement_no, amount=45000):
    return provider.prepay(PrepayRequest(order_no=order_no, amount_fen=amount, description="社保费", method="debit",
                                         notify_url="", expires_at=datetime(2030, 1, 1), payer_ref=agreement_no))


def _sign(provider, request_id="S1", account=CARD, holder="张伟"):
    return provider.sign_agreement(SignRequest(request_id, account, holder, "resident_id", "370202198503150013",
                                               "张伟", "370202198503150013"))


def test_an_agreement_signed_at_the_counter_is_confirmed_only_with_its_account_and_holder(bank, provider):
    number = bank.counter_agreement(CARD, "张伟")
    assert provider.confirm_agreement(number, CARD, "张伟").bank_state == "active"
    assert provider.confirm_agreement(number, "6222020200112233446", "张伟").bank_state == "not_found"
    assert provider.confirm_agreement(number, CARD, "李四").bank_state == "not_found"


def test_an_online_signature_is_pending_until_the_bank_has_verified_it(bank, provider, bank_clock):
    bank.faults(verify_delay_seconds=300)
    answer = _sign(provider)
    assert answer.bank_state == "pending"
    assert _sign(provider).agreement_no == answer.agreement_no  # the same request id, the same agreement
    bank_clock.set(bank_clock.now() + timedelta(seconds=301))
    assert provider.query_agreement(answer.agreement_no).bank_state == "active"


def test_the_bank_rejects_an_online_signature_for_a_closed_account_or_another_holder(bank, provider):
    bank.accounts(**{CARD: {"status": "closed"}, "6222020200112233446": {"holder_name": "王芳"}})
    assert _sign(provider, "S1").bank_state == "rejected"
    assert _sign(provider, "S2", "6222020200112233446", "张伟").bank_state == "rejected"


def test_a_debit_is_taken_once_however_often_it_is_asked_for(bank, provider):
    number = bank.counter_agreement(CARD, "张伟")
    bank.accounts(**{CARD: {"balance_fen": 100000}})
    assert _prepay(provider, "O1", number).state == ResultState.WAITING
    assert _prepay(provider, "O1", number).state == ResultState.WAITING
    trade = provider.query("O1")
    assert (trade.state, trade.amount_fen) == (ResultState.SUCCESS, 45000)
    assert bank.ledger.accounts[CARD].balance_fen == 55000


@pytest.mark.parametrize("setup, code", [
    ({"balance_fen": 100}, "51"),
    ({"status": "closed"}, "14"),
])
def test_a_debit_is_refused_for_insufficient_funds_or_a_closed_account(bank, provider, setup, code):
    number = bank.counter_agreement(CARD, "张伟")
    bank.accounts(**{CARD: setup})
    _prepay(provider, "O1", number)
    trade = provider.query("O1")
    assert (trade.state, trade.error_code) == (ResultState.FAIL, code)
    assert provider.close("O1").state == ResultState.SUCCESS


def test_a_revoked_agreement_cannot_be_debited(bank, provider):
    number = bank.counter_agreement(CARD, "张伟")
    assert provider.revoke_agreement(number).bank_state == "revoked"
    _prepay(provider, "O1", number)
    assert provider.query("O1").error_code == "57"


def test_a_late_debit_is_waiting_until_the_bank_settles_it(bank, provider, bank_clock):
    number = bank.counter_agreement(CARD, "张伟")
    bank.faults(late_results=True, late_seconds=120)
    _prepay(provider, "O1", number)
    assert provider.query("O1").state == ResultState.WAITING
    assert provider.close("O1").state == ResultState.UNKNOWN
    bank_clock.set(bank_clock.now() + timedelta(seconds=120))
    assert provider.query("O1").state == ResultState.SUCCESS
    assert provider.close("O1").error_code == "order_paid"


def test_bank_trouble_is_unknown_never_a_failure(bank, provider):
    bank.faults(api_5xx=True)
    assert _prepay(provider, "O1", "AG1").state == ResultState.UNKNOWN
    assert provider.query("O1").state == ResultState.UNKNOWN


def _batch(provider, tmp_path, lines, file_id="F1"):
    path = tmp_path / f"{file_id}.req"
    provider.write_batch_file(path, file_id, date(2026, 11, 25), datetime(2026, 11, 25, 2, 0), lines)
    return path


def test_a_batch_file_goes_out_and_its_result_comes_back_line_by_line(bank, provider, tmp_path):
    good, poor = bank.counter_agreement(CARD, "张伟"), bank.counter_agreement("6222020200112233446", "李秀英")
    bank.accounts(**{"6222020200112233446": {"balance_fen": 10}})
    path = _batch(provider, tmp_path, [BatchLine(1, "K1", good, 45000), BatchLine(2, "K2", poor, 30000)])
    assert path.read_text().splitlines()[-1].startswith("T|2|75000|")
    assert provider.send_batch("F1", path).state == ResultState.SUCCESS
    fetched = provider.fetch_batch_result("F1", tmp_path / "F1.res")
    assert fetched.state == ResultState.SUCCESS
    lines = list(provider.read_result_file(fetched.path, "F1"))
    assert [(x.line_key, x.code) for x in lines] == [("K1", "00"), ("K2", "51")]


def test_sending_a_file_again_or_a_line_in_another_file_debits_nothing_twice(bank, provider, tmp_path):
    number = bank.counter_agreement(CARD, "张伟")
    bank.accounts(**{CARD: {"balance_fen": 100000}})
    path = _batch(provider, tmp_path, [BatchLine(1, "K1", number, 45000)])
    provider.send_batch("F1", path)
    provider.send_batch("F1", path)
    provider.send_batch("F2", _batch(provider, tmp_path, [BatchLine(1, "K1", number, 45000)], "F2"))
    assert bank.ledger.accounts[CARD].balance_fen == 55000


def _remac(provider, path, body):
    """Sign a hand-edited file with the right key, so only its trailer can be wrong."""
    body = body[:body.rindex("|") + 1]
    path.write_text(body + hmac.new(provider.key, body.encode(), hashlib.sha256).hexdigest() + "\n")


def test_the_bank_refuses_a_file_whose_trailer_does_not_add_up_or_whose_mac_is_wrong(bank, provider, tmp_path):
    path = _batch(provider, tmp_path, [BatchLine(1, "K1", "AG1", 45000)])
    text = path.read_text()
    path.write_text(text.replace("|45000|", "|45001|", 1))
    assert provider.send_batch("F1", path).code == "BAD_MAC"
    _remac(provider, path, text.replace("T|1|45000|", "T|2|45000|"))
    assert provider.send_batch("F1", path).code == "BAD_TRAILER"
    _remac(provider, path, text.replace("T|1|45000|", "T|1|45999|"))
    assert provider.send_batch("F1", path).code == "BAD_TRAILER"
    assert not bank.ledger.batches and not bank.ledger.debits


def test_a_result_file_with_a_wrong_trailer_is_refused_whole(bank, provider, tmp_path):
    number = bank.counter_agreement(CARD, "张伟")
    provider.send_batch("F1", _batch(provider, tmp_path, [BatchLine(1, "K1", number, 45000)]))
    bank.faults(bad_result_trailer=True)
    fetched = provider.fetch_batch_result("F1", tmp_path / "F1.res")
    with pytest.raises(BadBankFile) as refused:
        provider.read_result_file(fetched.path, "F1")
    assert refused.value.code == "bad_trailer"


def test_a_result_file_can_be_late_partial_or_lost(bank, provider, tmp_path, bank_clock):
    number = bank.counter_agreement(CARD, "张伟")
    bank.faults(batch_delay_seconds=600, partial_results=True, late_seconds=3600)
    provider.send_batch("F1", _batch(provider, tmp_path, [BatchLine(1, "K1", number, 100), BatchLine(2, "K2", number, 200)]))
    assert provider.fetch_batch_result("F1", tmp_path / "F1.res").code == "NOT_READY"
    bank_clock.set(bank_clock.now() + timedelta(seconds=600))
    first = list(provider.read_result_file(provider.fetch_batch_result("F1", tmp_path / "F1.res").path, "F1"))
    assert [x.code for x in first] == ["00", "PR"]
    bank.faults(lose_result_files=True)
    assert provider.fetch_batch_result("F1", tmp_path / "F1.res").code == "NO_RESULT"
    bank.faults(lose_result_files=False)
    bank_clock.set(bank_clock.now() + timedelta(seconds=3600))
    second = list(provider.read_result_file(provider.fetch_batch_result("F1", tmp_path / "F1.res").path, "F1"))
    assert [x.code for x in second] == ["00", "00"]


def test_a_person_sees_the_bank_side_and_can_sign_at_the_counter(bank):
    import requests

    made = requests.post(bank.url + "/counter/agreements", data={"account_no": CARD, "holder_name": "张伟"}, timeout=5)
    assert "协议号" in made.text and CARD in made.text
    assert "沙箱银行" in requests.get(bank.url + "/", timeout=5).text


def test_the_run_wiring_serves_the_bank_beside_the_gateways_and_points_the_provider_at_it(tmp_path):
    from payments.registry import build_providers
    from payments.sandbox.wiring import sandbox_provider_settings, start_sandboxes

    urls = {"bank": "http://127.0.0.1:0"}
    served = start_sandboxes(tmp_path, urls)
    try:
        settings = sandbox_provider_settings(tmp_path, {**urls, "bank": served[0].url, "wechatpay": "http://127.0.0.1:1",
                                                        "alipay": "http://127.0.0.1:1", "unionpay": "http://127.0.0.1:1", "ccb": "http://127.0.0.1:1"},
                                             "http://127.0.0.1:5000")
        agreement = build_providers({"agreement": settings["agreement"]})["agreement"]
        assert agreement.confirm_agreement("AG-none", CARD, "张伟").bank_state == "not_found"
    finally:
        for s in served:
            s.stop()


def test_a_batch_line_the_bank_has_not_received_is_waiting_not_failed(bank, provider):
    assert provider.query("D20261125A42").state == ResultState.WAITING
    assert provider.close("D20261125A42").state == ResultState.UNKNOWN
    assert provider.query("2026112310000042490324").state == ResultState.FAIL


def test_the_day_statement_lists_every_debit_that_took_money_once_the_day_is_over(bank, provider, bank_clock,
                                                                                   tmp_path):
    from payments.base import StatementUnavailable

    good, poor = bank.counter_agreement(CARD, "张伟"), bank.counter_agreement("6222020200112233446", "李秀英")
    bank.accounts(**{"6222020200112233446": {"balance_fen": 10}})
    _prepay(provider, "O1", good, 45000)
    _prepay(provider, "O2", poor, 30000)  # refused: no money taken, not on the statement
    provider.send_batch("F1", _batch(provider, tmp_path, [BatchLine(1, "D20261125A7", good, 12300)]))
    day = bank_clock.now().date()
    with pytest.raises(StatementUnavailable):  # the day is not over at the bank
        provider.statement(day)
    bank_clock.set(bank_clock.now() + timedelta(days=1))
    lines = sorted(provider.statement(day), key=lambda x: x.order_no)
    assert [(x.kind, x.order_no, x.amount_fen) for x in lines] == [("payment", "D20261125A7", 12300),
                                                                  ("payment", "O1", 45000)]
    assert all(x.provider_trade_no and x.at.date() == day for x in lines)
    assert list(provider.statement(day - timedelta(days=1))) == []  # a quiet day is an empty statement
    bank.faults(lose_statements=True)
    with pytest.raises(StatementUnavailable):
        provider.statement(day)


def test_a_statement_whose_trailer_does_not_add_up_is_refused_whole(bank, provider, tmp_path):
    from payments.agreement.statement_file import check_statement

    path = tmp_path / "s.txt"
    body = "H|SBFSTMT|1.0|ccb|20261123|20261124010000\nD|1|O1|AG1|45000|T1|20261123100000\nT|1|45001|"
    _remac(provider, path, body)
    with pytest.raises(BadBankFile, match="bad_trailer"):
        check_statement(path, provider.key, "ccb", date(2026, 11, 23))
    path.write_text(body + "0" * 64 + "\n")
    with pytest.raises(BadBankFile, match="bad_mac"):
        check_statement(path, provider.key, "ccb", date(2026, 11, 23))
    _remac(provider, path, body.replace("20261123|2026112401", "20261122|2026112401"))
    with pytest.raises(BadBankFile, match="wrong_statement"):
        check_statement(path, provider.key, "ccb", date(2026, 11, 23))


def _remac_bytes(provider, path, body: bytes):
    body = body[:body.rindex(b"|") + 1]
    path.write_bytes(body + hmac.new(provider.key, body, hashlib.sha256).hexdigest().encode() + b"\n")


@pytest.mark.parametrize("line, code", [
    (b"D|1|K1|AG1|45000|00|T1|20261125100000|\xff\xfe", "bad_encoding"),  # bytes that are not UTF-8
    (b"D|x|K1|AG1|45000|00|T1|20261125100000|ok", "bad_line"),  # a sequence that is not a number
    (b"D|1|K1|AG1|45000|00|T1||ok", "bad_line"),  # a debit without the time the bank took it
    (b"D|1|K1|AG1|45000|00|T1|20261325100000|ok", "bad_line"),  # a time that is no time
    (b"D|1|K1|AG1|45000|00|T1|ok", "bad_line"),  # a 1.0 line, without its time field
])
def test_a_result_file_the_reader_cannot_trust_is_refused_as_a_bad_file_never_a_crash(provider, tmp_path, line,
                                                                                         code):
    path = tmp_path / "F1.res"
    _remac_bytes(provider, path, b"H|SBFRESULT|1.1|F1|ccb|20261125|20261125100000\n" + line
                 + b"\nT|1|45000|1|45000|")
    with pytest.raises(BadBankFile) as refused:
        list(provider.read_result_file(path, "F1"))
    assert refused.value.code == code


def test_a_refused_line_needs_no_time_and_a_debited_one_is_dated_in_beijing_time(provider, tmp_path):
    path = tmp_path / "F1.res"
    _remac_bytes(provider, path, b"H|SBFRESULT|1.1|F1|ccb|20261125|20261126002000\n"
                 b"D|1|K1|AG1|45000|00|T1|20261125235000|\xe4\xba\xa4\xe6\x98\x93\xe6\x88\x90\xe5\x8a\x9f\n"
                 b"D|2|K2|AG2|100|51|||no funds\nT|2|45100|1|45000|")
    first, second = provider.read_result_file(path, "F1")
    assert first.debited_at == datetime(2026, 11, 25, 15, 50, tzinfo=timezone.utc) and first.message == "交易成功"
    assert (second.code, second.debited_at) == ("51", None)


@pytest.mark.parametrize("line, code", [
    (b"D|1|O1|AG1|45000|T1|2026112310\xff000", "bad_encoding"),
    (b"D|1|O1|AG1|45000|T1|yesterday", "bad_line"),
])
def test_a_statement_the_reader_cannot_trust_is_refused_as_a_bad_file(provider, tmp_path, line, code):
    from payments.agreement.statement_file import check_statement

    path = tmp_path / "s.txt"
    _remac_bytes(provider, path, b"H|SBFSTMT|1.0|ccb|20261123|20261124010000\n" + line + b"\nT|1|45000|")
    with pytest.raises(BadBankFile) as refused:
        check_statement(path, provider.key, "ccb", date(2026, 11, 23))
    assert refused.value.code == code


def test_the_bank_refuses_a_request_file_that_is_not_utf8(bank, provider, tmp_path):
    path = tmp_path / "F9.req"
    _remac_bytes(provider, path, b"H|SBFDEBIT|1.0|F9|ccb|20261125|20261125020000\n"
                 b"D|1|K1|AG1|45000|\xff\nT|1|45000|")
    receipt = provider.send_batch("F9", path)
    assert (receipt.state, receipt.code) == (ResultState.FAIL, "BAD_FORMAT")
