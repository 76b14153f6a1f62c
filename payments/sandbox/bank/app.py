"""The sandbox bank's HTTP side: the API our agreement provider calls, control switches, a page.

API (JSON; every request carries ``X-Bank-Timestamp`` and ``X-Bank-Mac`` = hex HMAC-SHA256
under the shared key over ``METHOD\\nPATH\\nTIMESTAMP\\nBODY``; every answer carries
``X-Bank-Mac`` over its body):

* ``POST /api/agreements/confirm``  {agreement_no, account_no, holder_name}  → {status, reason}
* ``POST /api/agreements``          {request_id, account_no, holder_name, ...} → {agreement_no, status}
* ``GET  /api/agreements/<no>``      → {agreement_no, status, reason}
* ``POST /api/agreements/<no>/revoke``
* ``POST /api/debits``              {request_id, agreement_no, amount_fen} → {code, message, txn_no}
* ``GET  /api/debits/<request_id>``  (a batch line's key works too)
* ``POST /api/payouts``             {request_id, account_no, holder_name, amount_fen} → {code, message, txn_no}
* ``GET  /api/payouts/<request_id>``
* ``POST /api/batches/<file_id>``   the request file as the body → {status: RECEIVED} or 400 {code}
* ``GET  /api/batches/<file_id>/result``  the result file, or 404 {code: NOT_READY | NO_RESULT}
* ``GET  /api/statements/<yyyyMMdd>``  the day statement (every debit that took money that Beijing
  day, settlement times in Beijing time), or 404 {code: NOT_READY | NO_STATEMENT} before the day is over

``/_control`` (JSON, no MAC: a person's or a test's switches) and ``/`` (the bank's side, as
a clerk would see it, with a form to sign an agreement at the counter).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, render_template_string, request

from payments.sandbox.bank.files import FileRefused, parse_request, write_result, write_statement
from payments.sandbox.bank.ledger import BankLedger, MESSAGES, PROCESSING

PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>沙箱银行 · 委托扣款</title>
<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:2px 6px}</style>
<h1>沙箱银行（{{ bank }}）· 委托扣款</h1>
<h2>柜台签约（已在银行签署协议）</h2>
<form method="post" action="/counter/agreements">账号 <input name="account_no" required>
户名 <input name="holder_name" required> <button>签约</button></form>
{% if made %}<p>协议号：<b id="made">{{ made }}</b></p>{% endif %}
<h2>故障开关</h2><pre>{{ faults }}</pre>
<h2>协议</h2><table><tr><th>协议号</th><th>账号</th><th>户名</th><th>状态</th><th>原因</th></tr>
{% for a in s.agreements %}<tr><td>{{ a.agreement_no }}</td><td>{{ a.account_no }}</td><td>{{ a.holder_name }}</td>
<td>{{ a.status }}</td><td>{{ a.reason or "" }}</td></tr>{% endfor %}</table>
<h2>账户</h2><table><tr><th>账号</th><th>户名</th><th>余额（分）</th><th>状态</th></tr>
{% for a in s.accounts %}<tr><td>{{ a.account_no }}</td><td>{{ a.holder_name or "" }}</td><td>{{ a.balance_fen }}</td>
<td>{{ a.status }}</td></tr>{% endfor %}</table>
<h2>扣款（最近200笔）</h2><table><tr><th>流水号</th><th>协议号</th><th>金额（分）</th><th>结果</th><th>批次</th></tr>
{% for d in s.debits %}<tr><td>{{ d.request_id }}</td><td>{{ d.agreement_no }}</td><td>{{ d.amount_fen }}</td>
<td>{{ d.code }} {{ messages.get(d.code, "") }}</td><td>{{ d.file_id or "" }}</td></tr>{% endfor %}</table>
<h2>批量扣款文件</h2><table><tr><th>文件号</th><th>扣款日</th><th>笔数</th><th>收到</th></tr>
{% for b in s.batches %}<tr><td>{{ b.file_id }}</td><td>{{ b.due_date }}</td><td>{{ b.lines }}</td>
<td>{{ b.received_at }}</td></tr>{% endfor %}</table></html>"""


def create_bank_app(key: bytes, clock, bank_code: str = "ccb") -> Flask:
    app = Flask(__name__)
    ledger = BankLedger(clock, bank_code)
    app.extensions["bank_ledger"] = ledger

    def signed(payload, status: int = 200) -> Response:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        return Response(body, status=status, content_type="application/json",
                        headers={"X-Bank-Mac": hmac.new(key, body, hashlib.sha256).hexdigest()})

    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/"):
            return None
        if ledger.faults.api_5xx:
            return Response("bank system busy", status=500)
        stamp = request.headers.get("X-Bank-Timestamp", "")
        expected = hmac.new(key, f"{request.method}\n{request.path}\n{stamp}\n".encode() + request.get_data(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Bank-Mac", "")):
            return signed({"code": "BAD_MAC", "message": "报文校验码错误"}, 401)
        return None

    def agreement_view(a):
        return {"agreement_no": a.agreement_no, "status": a.status, "reason": a.reason} if a else \
            {"agreement_no": None, "status": "not_found", "reason": "协议不存在"}

    @app.post("/api/agreements/confirm")
    def confirm():
        data = request.get_json()
        status, reason = ledger.confirm(data["agreement_no"], data["account_no"], data["holder_name"])
        return signed({"agreement_no": data["agreement_no"], "status": status, "reason": reason})

    @app.post("/api/agreements")
    def sign():
        d = request.get_json()
        return signed(agreement_view(ledger.sign_online(d["request_id"], d["account_no"], d["holder_name"],
                                                        d.get("payer_name", ""))))

    @app.get("/api/agreements/<agreement_no>")
    def query_agreement(agreement_no):
        return signed(agreement_view(ledger.query_agreement(agreement_no)))

    @app.post("/api/agreements/<agreement_no>/revoke")
    def revoke(agreement_no):
        return signed(agreement_view(ledger.revoke(agreement_no)))

    def debit_view(d):
        settled = d.code == "00" and d.file_id is None  # a batch line is dated by its file's run (the statement)
        return {"request_id": d.request_id, "code": d.code, "message": MESSAGES.get(d.code, ""),
                "txn_no": d.txn_no, "amount_fen": d.amount_fen,
                "settled_at": d.settle_at.isoformat() if settled else None}

    @app.post("/api/debits")
    def debit():
        d = request.get_json()
        return signed(debit_view(ledger.debit(d["request_id"], d["agreement_no"], int(d["amount_fen"]))))

    @app.get("/api/debits/<request_id>")
    def query_debit(request_id):
        found = ledger.query_debit(request_id)
        if found is None:
            return signed({"code": "NOT_FOUND", "message": "无此交易"}, 404)
        return signed(debit_view(found))

    def payout_view(p):
        return {"request_id": p.request_id, "code": p.code, "message": MESSAGES.get(p.code, ""), "txn_no": p.txn_no,
                "amount_fen": p.amount_fen}

    @app.post("/api/payouts")
    def payout():
        d = request.get_json()
        return signed(payout_view(ledger.payout(d["request_id"], d["account_no"], d.get("holder_name", ""),
                                                int(d["amount_fen"]))))

    @app.get("/api/payouts/<request_id>")
    def query_payout(request_id):
        found = ledger.payouts.get(request_id)
        if found is None:
            return signed({"code": "NOT_FOUND", "message": "无此交易"}, 404)
        return signed(payout_view(found))

    @app.post("/api/batches/<file_id>")
    def receive_batch(file_id):
        try:
            if ledger.faults.reject_files:
                raise FileRefused("BAD_TRAILER", "文件尾笔数或金额与明细不符")
            parsed = parse_request(request.get_data(), key)
        except FileRefused as refused:
            return signed({"code": refused.code, "message": refused.message}, 400)
        if parsed.file_id != file_id:
            return signed({"code": "BAD_HEADER", "message": "文件号与请求不符"}, 400)
        batch, new = ledger.receive_batch(parsed)
        if not new and batch.digest != parsed.digest:
            return signed({"code": "DUPLICATE_FILE_ID", "message": "文件号已使用"}, 409)
        return signed({"file_id": file_id, "status": "RECEIVED", "duplicate": not new, "lines": len(batch.keys)})

    @app.get("/api/batches/<file_id>/result")
    def batch_result(file_id):
        if file_id not in ledger.batches:
            return signed({"code": "NOT_FOUND", "message": "无此文件"}, 404)
        if ledger.faults.lose_result_files:
            return signed({"code": "NO_RESULT", "message": "回盘文件暂不可用"}, 404)
        lines = ledger.batch_lines(file_id)
        if lines is None:
            return signed({"code": "NOT_READY", "message": "批次处理中"}, 404)
        if ledger.faults.unknown_result_line:
            lines.append((len(lines) + 1, "UNKNOWN-LINE-KEY", "AG0", 100, "00", "T0", clock.now(), "交易成功"))
        batch = ledger.batches[file_id]
        body = write_result(key, file_id, ledger.bank_code, batch.due_date, clock.now(), lines,
                            sum_delta_fen=1 if ledger.faults.bad_result_trailer else 0)
        return Response(body, content_type="text/plain; charset=utf-8",
                        headers={"X-Bank-Mac": hmac.new(key, body, hashlib.sha256).hexdigest(),
                                 "X-Pending-Lines": str(sum(1 for x in lines if x[4] == PROCESSING))})

    @app.get("/api/statements/<day>")
    def statement(day):
        try:
            wanted = datetime.strptime(day, "%Y%m%d").date()
        except ValueError:
            return signed({"code": "BAD_DATE", "message": "日期格式错误"}, 400)
        if ledger.faults.lose_statements:
            return signed({"code": "NO_STATEMENT", "message": "对账文件暂不可用"}, 404)
        lines = ledger.debited_on(wanted)
        if lines is None:
            return signed({"code": "NOT_READY", "message": "当日未终了，对账文件尚未生成"}, 404)
        shanghai = ZoneInfo("Asia/Shanghai")
        lines = [(r, a, n, t, at.astimezone(shanghai)) for r, a, n, t, at in lines]
        body = write_statement(key, ledger.bank_code, day, clock.now().astimezone(shanghai), lines)
        return Response(body, content_type="text/plain; charset=utf-8",
                        headers={"X-Bank-Mac": hmac.new(key, body, hashlib.sha256).hexdigest()})

    # -- control and page -------------------------------------------------------------------

    @app.get("/_control")
    def control():
        return jsonify(json.loads(json.dumps(ledger.summary(), default=str)))

    @app.post("/_control/faults")
    def faults():
        try:
            ledger.faults.update(request.get_json() or {})
        except (KeyError, ValueError) as bad:
            return jsonify({"error": f"unknown or bad switch: {bad}"}), 400
        return jsonify({"faults": ledger.faults.as_dict()})

    @app.post("/_control/reset")
    def reset():
        ledger.reset()
        return jsonify({"faults": ledger.faults.as_dict()})

    @app.post("/_control/accounts")
    def accounts():
        """{"<account_no>": {"balance_fen": 0, "status": "closed", "holder_name": "..."}, ...}"""
        for account_no, values in (request.get_json() or {}).items():
            ledger.set_account(account_no, **values)
        return jsonify({"accounts": len(request.get_json() or {})})

    @app.post("/_control/agreements")
    def counter_agreement_json():
        d = request.get_json()
        return jsonify(agreement_view(ledger.open_at_counter(d["account_no"], d["holder_name"], d.get("payer_name"))))

    @app.post("/_control/debits/<request_id>/settle")
    def settle_now(request_id):
        """Settle a late debit now (as if the bank's batch run reached it)."""
        debit = ledger.debits.get(request_id)
        if debit is None:
            return jsonify({"error": "unknown"}), 404
        debit.settle_at = clock.now()
        return jsonify(debit_view(ledger.query_debit(request_id)))

    @app.post("/counter/agreements")
    def counter_agreement_form():
        made = ledger.open_at_counter(request.form["account_no"].strip(), request.form["holder_name"].strip())
        return page(made.agreement_no)

    @app.get("/")
    def page(made: str | None = None):
        return render_template_string(PAGE, s=ledger.summary(), bank=ledger.bank_code, made=made,
                                      messages=MESSAGES, faults=json.dumps(ledger.faults.as_dict(), indent=1))

    return app
