"""The CCB sandbox bank: the merchant gateway, the bank's card payment page, control endpoints.

It checks our signature on every request (a wrong one is answered RESULT N, ERRCODE SIGN_ERROR),
signs every answer and notification with the bank's own generated key, and sends the payment
notification to the order's NOTIFYURL, retrying until answered HTTP 200 (schedule below).
The payment page asks what seed 004 shows: the card number and the last four characters of
the holder's document number, then the account name and the withdrawal password (取现密码).

Test cards (any other number is 非建行卡): see ``CARDS``. What the sandbox simplifies: refunds
succeed at once; each trade settles on its own calendar day; one currency (01, 人民币).
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, render_template_string, request

from payments.ccb import signing
from payments.sandbox.common import (Faults, Notifier, control_payload, ensure_rsa_key, faulty_payments, public_pem,
                                     unknown_numbers)

SHANGHAI = ZoneInfo("Asia/Shanghai")
RETRY_SCHEDULE_SECONDS = [15, 60, 300, 900, 3600, 7200]  # the sandbox's own schedule: CCB publishes none
# card number → (account name, last four of the document number, withdrawal password)
CARDS = {"6217002870000000001": ("卓玛", "0626", "111111"), "6217002870000000002": ("扎西", "0350", "222222"),
         "6217002870000000003": ("张伟", "0013", "333333")}
BANK_KEY, MERCHANT_KEY = "bank_private.pem", "merchant_private.pem"
MERCHANT = {"MERCHANTID": "105000000000001", "POSID": "000000001", "BRANCHID": "540000000"}


@dataclass
class Trade:
    order_no: str
    amount_fen: int
    notify_url: str
    return_url: str
    state: str = "WAIT"  # WAIT / SUCCESS / CLOSED
    trade_no: str | None = None
    paid_at: datetime | None = None
    card_checked: str | None = None  # the card number once step one passed
    refunds: dict = field(default_factory=dict)  # refund_code → (amount_fen, trade no, at)


def now() -> datetime:
    return datetime.now(SHANGHAI)


class Bank:
    def __init__(self, key_dir: Path, time_scale: float):
        self.bank_key = ensure_rsa_key(key_dir / BANK_KEY)
        self.merchant_public = public_pem(ensure_rsa_key(key_dir / MERCHANT_KEY))
        self.time_scale = time_scale
        self.faults = Faults()
        self.trades: dict[str, Trade] = {}
        self.lock = threading.Lock()
        self.notifier = self._new_notifier()

    def _new_notifier(self) -> Notifier:
        return Notifier(RETRY_SCHEDULE_SECONDS, lambda status, _body: status == 200, self.faults,
                        time_scale=self.time_scale)

    def reset(self) -> None:
        old, self.notifier = self.notifier, self._new_notifier()
        old.stop()  # drops notifications still waiting for a retry: a reset starts from nothing
        with self.lock:
            self.trades.clear()
        self.faults.update(Faults().as_dict())

    def answer(self, **fields) -> Response:
        return jsonify(signing.sign({**fields}, self.bank_key))

    def refuse(self, code: str, message: str) -> Response:
        return self.answer(RESULT="N", ERRCODE=code, ERRMSG=message)

    def pay(self, trade: Trade) -> None:
        with self.lock:
            if trade.state != "WAIT":
                return
            trade.state, trade.paid_at = "SUCCESS", now()
            trade.trade_no = f"CCB{trade.paid_at:%Y%m%d}{secrets.randbelow(10 ** 10):010d}"
        self.notify(trade)

    def notify(self, trade: Trade, refund_code: str | None = None) -> None:
        def build():
            amount = trade.amount_fen + self.faults.notify_amount_delta_fen
            fields = {**{k: MERCHANT[k] for k in ("POSID", "BRANCHID")}, "ORDERID": trade.order_no,
                      "PAYMENT": signing.yuan(amount), "CURCODE": "01", "ACC_TYPE": "12", "SUCCESS": "Y",
                      "TRADE_NO": trade.trade_no, "REFUND_CODE": refund_code or ""}
            return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(
                signing.sign(fields, self.bank_key)).encode()
        self.notifier.send(f"{trade.trade_no}:{refund_code or 'pay'}", trade.notify_url, build)

    def stop(self) -> None:
        self.notifier.stop()


PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>中国建设银行 · 建行支付</title>
<style>body{font:16px/1.6 sans-serif;max-width:28rem;margin:1rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}
input{font-size:1rem;width:100%;padding:.4rem}button{font-size:1rem;padding:.6rem 1.2rem;margin-top:1rem}
.err{color:#b00020}.note{color:#555}</style></head><body>
<p class="note">建设银行沙箱（开发与测试用）</p><h1>建行支付</h1><p>订单号 {{ t.order_no }}　金额 <strong>{{ amount }}</strong> 元</p>
{% if t.state == "SUCCESS" %}<p id="result">支付成功</p>{% if t.return_url %}<p><a href="{{ t.return_url }}">返回商户</a></p>{% endif %}
{% elif t.state != "WAIT" %}<p id="result">订单已关闭</p>
{% else %}{% if error %}<p class="err" role="alert">{{ error }}</p>{% endif %}
<form method="post">{% if not t.card_checked %}
<label>建行卡号 <input name="card_no" inputmode="numeric" autocomplete="off" required></label>
<label>证件号码后四位 <input name="id_last4" maxlength="4" autocomplete="off" required></label>
<button name="step" value="card">确认支付</button>{% else %}
<p>卡号 {{ t.card_checked[:4] }} **** {{ t.card_checked[-4:] }}</p>
<label>账户姓名 <input name="account_name" autocomplete="off" required></label>
<label>取现密码 <input name="password" type="password" inputmode="numeric" maxlength="6" autocomplete="off" required></label>
<button name="step" value="password">完成支付</button>{% endif %}</form>{% endif %}</body></html>"""


def create_bank_app(key_dir: Path, time_scale: float = 1.0) -> Flask:
    app = Flask("ccb_sandbox")
    bank = Bank(Path(key_dir), time_scale)
    app.extensions["ccb_sandbox"] = bank

    def checked() -> dict | Response:
        fields = request.form.to_dict()
        if not signing.verify(fields, bank.merchant_public):
            return bank.refuse("SIGN_ERROR", "验签失败")
        if any(fields.get(k) != v for k, v in MERCHANT.items()):
            return bank.refuse("MERCHANT_ERROR", "商户信息有误")
        if bank.faults.api_5xx:
            return Response("busy", status=500)
        return fields

    @app.post("/ccbNetpay/orders")
    def orders():
        fields = checked()
        if isinstance(fields, Response):
            return fields
        try:
            amount = signing.fen(fields["PAYMENT"])
        except (KeyError, ValueError):
            return bank.refuse("PARAM_ERROR", "金额有误")
        with bank.lock:
            existing = bank.trades.get(fields["ORDERID"])
            if existing and existing.amount_fen != amount:
                return bank.refuse("ORDER_EXISTS", "订单号重复")
            bank.trades.setdefault(fields["ORDERID"], Trade(fields["ORDERID"], amount, fields.get("NOTIFYURL", ""),
                                                            fields.get("RETURNURL", "")))
        return bank.answer(RESULT="Y", ORDERID=fields["ORDERID"],
                           PAYURL=f"{request.host_url.rstrip('/')}/ccbNetpay/pay/{fields['ORDERID']}")

    @app.post("/ccbNetpay/query")
    def query():
        fields = checked()
        if isinstance(fields, Response):
            return fields
        t = bank.trades.get(fields.get("ORDERID", ""))
        if t is None:
            return bank.answer(RESULT="Y", ORDERID=fields.get("ORDERID"), STATUS="NOTEXIST")
        return bank.answer(RESULT="Y", ORDERID=t.order_no, STATUS=t.state, PAYMENT=signing.yuan(t.amount_fen),
                           TRADE_NO=t.trade_no or "", PAYTIME=t.paid_at.strftime("%Y%m%d%H%M%S") if t.paid_at else "")

    @app.post("/ccbNetpay/close")
    def close():
        fields = checked()
        if isinstance(fields, Response):
            return fields
        with bank.lock:
            t = bank.trades.get(fields.get("ORDERID", ""))
            if t is not None and t.state == "SUCCESS":
                return bank.refuse("ORDERPAID", "订单已支付")
            if t is not None:
                t.state = "CLOSED"
        return bank.answer(RESULT="Y", ORDERID=fields.get("ORDERID"))

    @app.post("/ccbNetpay/refund")
    def refund():
        fields = checked()
        if isinstance(fields, Response):
            return fields
        with bank.lock:
            t = bank.trades.get(fields.get("ORDERID", ""))
            if t is None or t.state != "SUCCESS":
                return bank.refuse("NOTPAID", "订单未支付")
            amount = signing.fen(fields.get("MONEY", "0"))
            code = fields.get("REFUND_CODE", "")
            if code not in t.refunds:
                if amount + sum(a for a, _, _ in t.refunds.values()) > t.amount_fen:
                    return bank.refuse("AMOUNT_EXCEEDED", "退款金额超过可退金额")
                t.refunds[code] = (amount, f"RF{secrets.randbelow(10 ** 12):012d}", now())
            amount, trade_no, _ = t.refunds[code]
        return bank.answer(RESULT="Y", ORDERID=t.order_no, REFUND_CODE=code, STATUS="SUCCESS",
                           MONEY=signing.yuan(amount), REFUND_TRADE_NO=trade_no)

    @app.post("/ccbNetpay/refund-query")
    def refund_query():
        fields = checked()
        if isinstance(fields, Response):
            return fields
        t = bank.trades.get(fields.get("ORDERID", ""))
        code = fields.get("REFUND_CODE", "")
        if t is None or code not in t.refunds:
            return bank.refuse("REFUND_NOTEXIST", "退款不存在")
        amount, trade_no, _ = t.refunds[code]
        return bank.answer(RESULT="Y", ORDERID=t.order_no, REFUND_CODE=code, STATUS="SUCCESS",
                           MONEY=signing.yuan(amount), REFUND_TRADE_NO=trade_no)

    @app.post("/ccbNetpay/statement")
    def statement():
        fields = checked()
        if isinstance(fields, Response):
            return fields
        day = fields.get("DATE", "")
        paid = [(t.order_no, t.amount_fen, t.trade_no, t.paid_at) for t in list(bank.trades.values())
                if t.paid_at and t.paid_at.strftime("%Y%m%d") == day]
        # the statement faults every sandbox applies, the ones reconciliation exists to find
        paid = faulty_payments(bank.faults, paid, lambda p: p[0], lambda p, delta: (p[0], p[1] + delta, p[2], p[3]))
        lines = [f"payment|{no}|{signing.yuan(amount)}|{trade_no}||{at:%Y%m%d%H%M%S}" for no, amount, trade_no, at in paid]
        for t in list(bank.trades.values()):
            lines += [f"refund|{t.order_no}|{signing.yuan(a)}|{no}|{code}|{at:%Y%m%d%H%M%S}"
                      for code, (a, no, at) in t.refunds.items() if at.strftime("%Y%m%d") == day]
        if day:
            when = datetime.strptime(day, "%Y%m%d").replace(hour=12, tzinfo=SHANGHAI)
            unknown_order, unknown_refund = unknown_numbers(when.date())
            if bank.faults.statement_unknown_debit_fen:
                lines.append(f"payment|{unknown_order}|{signing.yuan(bank.faults.statement_unknown_debit_fen)}|"
                             f"CCBUNKNOWN||{when:%Y%m%d%H%M%S}")
            if bank.faults.statement_unknown_refund_fen and paid:
                lines.append(f"refund|{paid[0][0]}|{signing.yuan(bank.faults.statement_unknown_refund_fen)}|"
                             f"RFUNKNOWN|{unknown_refund}|{when:%Y%m%d%H%M%S}")
        return bank.answer(RESULT="Y", DATE=day, LINES="\n".join(lines))

    @app.route("/ccbNetpay/pay/<order_no>", methods=["GET", "POST"])
    def pay_page(order_no):
        t = bank.trades.get(order_no)
        if t is None:
            return Response("订单不存在", status=404)
        error = None
        if request.method == "POST" and t.state == "WAIT":
            if request.form.get("step") == "card":
                card = "".join(request.form.get("card_no", "").split())
                holder = CARDS.get(card)
                if holder is None:
                    error = "非建行卡或卡号有误，请核对"
                elif request.form.get("id_last4", "").upper() != holder[1]:
                    error = "证件号码后四位与开户信息不符"
                else:
                    t.card_checked = card
            elif t.card_checked:
                holder = CARDS[t.card_checked]
                if request.form.get("account_name", "").strip() != holder[0]:
                    error = "账户姓名与开户信息不符"
                elif request.form.get("password", "") != holder[2]:
                    error = "取现密码错误"
                else:
                    bank.pay(t)
        return render_template_string(PAGE, t=t, amount=signing.yuan(t.amount_fen), error=error)

    @app.get("/_control")
    def control():
        return Response(control_payload(bank.faults, bank.notifier), content_type="application/json")

    @app.post("/_control/faults")
    def faults():
        bank.faults.update(request.get_json(force=True) or {})
        return Response(control_payload(bank.faults, bank.notifier), content_type="application/json")

    @app.post("/_control/reset")
    def reset():
        bank.reset()
        return Response(control_payload(bank.faults, bank.notifier), content_type="application/json")

    @app.post("/_control/orders/<order_no>/<action>")
    def act(order_no, action):
        t = bank.trades.get(order_no)
        if t is None:
            return jsonify({"error": "no such order"}), 404
        if action == "pay":
            bank.pay(t)
        elif action == "cancel" and t.state == "WAIT":
            t.state = "CLOSED"
        return jsonify({"order_no": order_no, "state": t.state})

    return app
