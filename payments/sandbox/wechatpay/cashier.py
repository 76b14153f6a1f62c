"""The sandbox cashier page: where a person plays the payer and confirms (确认支付) or cancels.

In real life the payer confirms inside WeChat (the JSAPI sheet, or the app after scanning the
Native QR code); here both lead to this one page, keyed by the order's prepay_id. Self-contained
HTML, no external assets, escaped by Jinja's autoescaping.
"""
from __future__ import annotations

from flask import render_template_string

from payments.sandbox.wechatpay.bill import yuan
from payments.sandbox.wechatpay.ledger import Order

STATE_TEXT = {"NOTPAY": "待支付", "SUCCESS": "支付成功", "REFUND": "已支付（发生过退款）",
              "CLOSED": "订单已关闭"}

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>微信支付 · 沙箱收银台</title>
<style>
  body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; background: #ededed;
         margin: 0; color: #111; }
  main { max-width: 420px; margin: 2rem auto; background: #fff; border-radius: 8px; padding: 1.5rem; }
  h1 { font-size: 1.1rem; margin: 0 0 .25rem; }
  .note { color: #888; font-size: .85rem; margin: 0 0 1.25rem; }
  .amount { font-size: 2rem; text-align: center; margin: 1rem 0; }
  dl { display: grid; grid-template-columns: 5rem 1fr; gap: .4rem; font-size: .95rem; }
  dt { color: #888; } dd { margin: 0; word-break: break-all; }
  .message { padding: .75rem; border-radius: 6px; background: #f0f9eb; color: #2b7a0b; }
  .message.warn { background: #fdf6ec; color: #9a5b00; }
  form { margin: .75rem 0 0; }
  button { width: 100%; padding: .8rem; font-size: 1rem; border: 0; border-radius: 6px;
           cursor: pointer; background: #07c160; color: #fff; }
  button.secondary { background: #f2f2f2; color: #333; }
</style>
</head>
<body>
<main>
  <h1>微信支付 · 沙箱收银台</h1>
  <p class="note">本页模拟付款人在微信中确认支付，不会产生真实扣款。</p>
  {% if order %}
  <div class="amount">¥{{ amount }}</div>
  <dl>
    <dt>商品</dt><dd>{{ order.description }}</dd>
    <dt>商户订单号</dt><dd>{{ order.out_trade_no }}</dd>
    <dt>状态</dt><dd>{{ state_text }}</dd>
    {% if order.transaction_id %}<dt>微信支付单号</dt><dd>{{ order.transaction_id }}</dd>{% endif %}
  </dl>
  {% endif %}
  {% if message %}<p class="message{{ ' warn' if warn else '' }}">{{ message }}</p>{% endif %}
  {% if order and order.trade_state == 'NOTPAY' %}
  <form method="post" action="{{ url_for('cashier_confirm', prepay_id=order.prepay_id) }}">
    <button type="submit">确认支付</button>
  </form>
  <form method="post" action="{{ url_for('cashier_cancel', prepay_id=order.prepay_id) }}">
    <button type="submit" class="secondary">取消</button>
  </form>
  {% endif %}
  {% if order and order.trade_state != 'NOTPAY' %}
  <p><button type="button" class="secondary" id="cashier-done"
    onclick="if (window.opener) { window.close(); } else { history.back(); }">完成</button></p>
  {% endif %}
</main>
</body>
</html>
"""


def render_cashier(order: Order | None, message: str = "", warn: bool = False) -> str:
    """The page for one order (or a message alone when the order is unknown)."""
    return render_template_string(
        PAGE, order=order, message=message, warn=warn,
        amount=yuan(order.total) if order else "",
        state_text=STATE_TEXT.get(order.trade_state, order.trade_state) if order else "")
