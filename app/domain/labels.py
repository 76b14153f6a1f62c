"""What a payer reads for each channel, provider and payment method: the one table of these words.

Channel adapters take their ``title`` from here, the pages their headers, looking back its
``channel_label`` and ``method_label``; a new channel or method adds one line here.
"""
from __future__ import annotations

CHANNEL_LABELS = {"wechat_oa": "微信公众号", "wechat_city": "微信城市服务", "alipay_citizen": "支付宝市民中心",
                  "tax_app": "税税通（移动办税）", "unionpay_app": "云闪付", "etax_web": "电子税务局",
                  "api": "开放接口", "batch": "批量扣款"}
PROVIDER_LABELS = {"wechatpay": "微信支付", "alipay": "支付宝", "unionpay": "银联云闪付", "counter": "银行柜台缴款",
                   "agreement": "协议缴纳", "ccb": "建行支付", "fake": "模拟支付"}
METHOD_LABELS = {"wechatpay.jsapi": "微信支付", "wechatpay.native": "微信扫码支付", "alipay.wap": "支付宝",
                 "alipay.qr": "支付宝扫码支付", "unionpay.qr": "云闪付", "counter.voucher": "银行端缴费凭证（到银行柜台缴款）",
                 "fake.qr": "模拟支付", "ccb.card": "建行支付"}


def channel_label(code: str | None) -> str:
    return CHANNEL_LABELS.get(code or "", code or "")


def method_label(provider: str | None, method: str | None) -> str:
    """微信支付, 支付宝扫码支付, ...; the provider's name when the method is not listed."""
    return METHOD_LABELS.get(f"{provider}.{method}") or PROVIDER_LABELS.get(provider or "", provider or "")
