"""The sandbox's HTTP face: Alipay's gateway, the cashier page, bill downloads, ``/_control``.

``/gateway.do`` (GET or POST) dispatches on ``method`` like Alipay's open-platform gateway:
it checks app_id and our RSA2 signature (which covers sign_type) with the public key the
merchant registered, then answers ``{"<method>_response": {...}, "sign": "..."}`` signed by
Alipay's key. Refusals of the request itself (bad signature, unknown app) go out unsigned,
as ``isv.*`` errors; business refusals are signed ``40004`` answers. The page method
``alipay.trade.wap.pay`` answers with the cashier page instead of JSON.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, render_template_string, request, url_for

from payments.sandbox.alipay import oauth
from payments.sandbox.alipay.signing import (APP_ID, SELLER_ID, answer_text, ensure_keys, rsa2_verify,
                                             signed_text)
from payments.sandbox.alipay.trades import TRADE_SUCCESS, AlipayError, AlipaySandbox, Trade

Handler = Callable[[AlipaySandbox, dict, dict, str], dict]

# The open-platform methods the sandbox serves; alipay.system.oauth.token (the citizen-center
# login) has its handler and pages in oauth.py.
API_METHODS: dict[str, Handler] = {
    "alipay.trade.precreate": AlipaySandbox.precreate,
    "alipay.trade.query": AlipaySandbox.query,
    "alipay.trade.close": AlipaySandbox.close,
    "alipay.trade.refund": AlipaySandbox.refund,
    "alipay.trade.fastpay.refund.query": AlipaySandbox.refund_query,
    "alipay.data.dataservice.bill.downloadurl.query": AlipaySandbox.bill_download_url,
    oauth.METHOD: oauth.system_oauth_token,  # the citizen-center login (oauth.py)
}
PAGE_METHODS = {"alipay.trade.wap.pay"}


def create_sandbox_app(key_dir: Path, time_scale: float = 1.0) -> Flask:
    """The sandbox gateway; its keys (Alipay's and the merchant's) live in ``key_dir``."""
    sandbox = AlipaySandbox(ensure_keys(Path(key_dir)), time_scale=time_scale)
    app = Flask(__name__)
    app.extensions["alipay_sandbox"] = sandbox
    _gateway_routes(app, sandbox)
    _cashier_routes(app, sandbox)
    _control_routes(app, sandbox)
    oauth.install(app)
    return app


def sandbox_provider_settings(key_dir: Path, sandbox_url: str) -> dict:
    """The kwargs of ``payments.alipay.provider:build`` that talk to a sandbox at ``sandbox_url``."""
    keys = ensure_keys(Path(key_dir))
    return {"app_id": APP_ID, "seller_id": SELLER_ID,
            "app_private_key": str(keys.merchant_private_path),
            "alipay_public_key": str(keys.alipay_public_path),
            "gateway_url": sandbox_url.rstrip("/") + "/gateway.do", "timeout_seconds": 5.0}


def stop_sandbox(app: Flask) -> None:
    """Stop the notification sender of a sandbox app."""
    app.extensions["alipay_sandbox"].stop()


# -- the gateway ---------------------------------------------------------------------------------

def _gateway_routes(app: Flask, sandbox: AlipaySandbox) -> None:
    @app.route("/gateway.do", methods=["GET", "POST"])
    def gateway():
        params = request.values.to_dict()
        method = params.get("method", "")
        if method in PAGE_METHODS:
            return _wap_page(params)
        handler = API_METHODS.get(method)
        if handler is None:
            refusal = AlipayError("isv.invalid-method", "不存在的方法名", code="40002", msg="Invalid Arguments")
            return _json(answer_text("error", refusal.body(), None))
        if sandbox.faults.api_delay_seconds:
            time.sleep(sandbox.faults.api_delay_seconds)
        if sandbox.faults.api_5xx:
            return Response("<html><body>500 Internal Server Error</body></html>", 500, mimetype="text/html")
        try:
            _check_request(params)
            biz = _biz(params)
        except AlipayError as refusal:
            return _json(answer_text(method, refusal.body(), None))
        try:
            body = handler(sandbox, params, biz, request.host_url.rstrip("/"))
        except AlipayError as refusal:
            body = refusal.body()
        return _json(answer_text(method, body, sandbox.keys.alipay_private))

    @app.get("/downloadBillFile.resource")
    def download_bill():
        content = sandbox.bill(request.args.get("token", ""))
        if content is None:
            return Response("账单链接已失效", 404, mimetype="text/plain")
        name = f"{SELLER_ID}0156_{request.args.get('bizDates', '')}.csv.zip"
        return Response(content, mimetype="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

    def _check_request(params: dict) -> None:
        """Refuse what Alipay refuses before looking at the business content."""
        if params.get("app_id") != APP_ID:
            raise AlipayError("isv.invalid-app-id", "无效的AppID参数", code="40002", msg="Invalid Arguments")
        if not params.get("sign"):
            raise AlipayError("isv.missing-signature", "缺少签名参数", code="40001",
                              msg="Missing Required Arguments")
        if params.get("sign_type") != "RSA2":
            raise AlipayError("isv.invalid-signature-type", "无效的签名类型", code="40002", msg="Invalid Arguments")
        try:
            datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise AlipayError("isv.invalid-timestamp", "非法的时间戳参数", code="40002",
                              msg="Invalid Arguments") from None
        text = signed_text(params, without=("sign",), skip_empty=True)
        if not rsa2_verify(sandbox.keys.merchant_public, text, params["sign"]):
            raise AlipayError("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
                              code="40002", msg="Invalid Arguments")

    def _wap_page(params: dict):
        try:
            _check_request(params)
            trade = sandbox.open_wap(params, _biz(params))
        except AlipayError as refusal:
            return _page(error=refusal)
        return _page(trade=trade)


def _biz(params: dict) -> dict:
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        biz = None
    if not isinstance(biz, dict):
        raise AlipayError("isv.invalid-parameter", "biz_content 不是 JSON 对象", code="40002",
                          msg="Invalid Arguments")
    return biz


def _json(text: str) -> Response:
    return Response(text, mimetype="application/json")


# -- the cashier ---------------------------------------------------------------------------------

def _cashier_routes(app: Flask, sandbox: AlipaySandbox) -> None:
    @app.get("/cashier/<token>")
    def cashier(token: str):
        try:
            return _page(trade=sandbox.open_cashier(token), return_params=sandbox.return_params)
        except AlipayError as refusal:
            return _page(error=refusal), 404

    @app.post("/cashier/<token>/<action>")
    def payer_acts(token: str, action: str):
        act = {"pay": sandbox.pay, "cancel": sandbox.cancel}.get(action)
        if act is None:
            return _page(error=AlipayError("unknown-action", "不支持的操作")), 404
        try:
            act(sandbox.trade_for(token))
        except AlipayError as refusal:
            return _page(error=refusal), 409
        return redirect(url_for("cashier", token=token), code=303)


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>支付宝收银台（沙箱）</title>
<style>
body{font-family:sans-serif;background:#f5f5f5;margin:0;color:#333}
main{max-width:420px;margin:2em auto;background:#fff;padding:1.5em;border-radius:8px}
h1{color:#1677ff;font-size:1.3em;margin-top:0}
.note{color:#999;font-size:.85em}
.amount{font-size:2em;margin:.5em 0}
dt{color:#999;font-size:.85em}dd{margin:0 0 .6em}
button{width:100%;padding:.8em;font-size:1em;border:0;border-radius:6px;margin-top:.6em;cursor:pointer}
.pay{background:#1677ff;color:#fff}.cancel{background:#eee}
.done{color:#52c41a}.closed,.error{color:#f5222d}
</style></head><body><main>
<h1>支付宝收银台</h1>
<p class="note">本地沙箱：不会发生真实扣款</p>
{% if error %}
  <p class="error">{{ error.sub_msg }}</p>
  <p class="note">错误代码：{{ error.sub_code }}</p>
{% else %}
  <dl><dt>商品</dt><dd>{{ trade.subject }}</dd>
  <dt>商户订单号</dt><dd>{{ trade.out_trade_no }}</dd></dl>
  <div class="amount">¥{{ amount }}</div>
  {% if trade.status == "WAIT_BUYER_PAY" %}
  <form method="post" action="{{ url_for('payer_acts', token=trade.token, action='pay') }}">
    <button class="pay" type="submit">确认支付</button></form>
  <form method="post" action="{{ url_for('payer_acts', token=trade.token, action='cancel') }}">
    <button class="cancel" type="submit">取消</button></form>
  {% elif trade.status == "TRADE_SUCCESS" %}
  <p class="done">支付成功</p>
  {% if return_link %}<p><a href="{{ return_link }}">返回商户</a></p>{% endif %}
  {% else %}
  <p class="closed">交易已关闭</p>
  {% endif %}
{% endif %}
</main></body></html>"""


def _page(trade: Trade | None = None, error: AlipayError | None = None,
          return_params: Callable[[Trade], dict] | None = None) -> str:
    return_link = None
    if trade is not None and trade.status == TRADE_SUCCESS and trade.return_url and return_params:
        separator = "&" if "?" in trade.return_url else "?"
        return_link = trade.return_url + separator + urlencode(return_params(trade))
    amount = f"{trade.amount_fen // 100}.{trade.amount_fen % 100:02d}" if trade else ""
    return render_template_string(_PAGE, trade=trade, error=error, amount=amount, return_link=return_link)


# -- control -------------------------------------------------------------------------------------

def _control_routes(app: Flask, sandbox: AlipaySandbox) -> None:
    @app.get("/_control")
    def control():
        return _json(sandbox.control_payload())

    @app.post("/_control/faults")
    def set_faults():
        values = request.get_json(silent=True) or {}
        if not isinstance(values, dict):
            return jsonify(error="expected a JSON object of Faults fields"), 400
        try:
            sandbox.faults.update(values)
        except (KeyError, TypeError, ValueError) as exc:
            return jsonify(error=f"unknown or bad fault: {exc}"), 400
        return _json(sandbox.control_payload())

    @app.post("/_control/reset")
    def reset():
        sandbox.reset()
        return _json(sandbox.control_payload())

    @app.post("/_control/orders/<order_no>/<action>")
    def order_action(order_no: str, action: str):
        act = {"pay": sandbox.pay, "cancel": sandbox.cancel}.get(action)
        if act is None:
            return jsonify(error=f"unknown action {action!r}"), 404
        try:
            trade = act(order_no)
        except AlipayError as refusal:
            status = 404 if refusal.sub_code == "ACQ.TRADE_NOT_EXIST" else 409
            return jsonify(error=refusal.sub_code, message=refusal.sub_msg), status
        return jsonify(out_trade_no=trade.out_trade_no, trade_no=trade.trade_no, trade_status=trade.status)
