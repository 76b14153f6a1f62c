"""How each channel's entry looks: its title and its pay step; the templates are shared."""
from __future__ import annotations

LOOKS = {
    "wechat_oa": {"title": "社保费缴费", "brand": "税务公众号", "pay_step": "微信支付", "accent": "#07c160"},
    "wechat_city": {"title": "城市服务 · 社保费缴费", "brand": "微信城市服务", "pay_step": "微信支付",
                    "accent": "#07c160"},
    "alipay_citizen": {"title": "市民中心 · 社保缴费", "brand": "支付宝市民中心", "pay_step": "支付宝",
                       "accent": "#1677ff"},
    "unionpay_app": {"title": "社保自助缴费", "brand": "云闪付", "pay_step": "云闪付", "accent": "#e60012"},
    "tax_app": {"title": "社保费缴纳", "brand": "移动办税", "pay_step": "扫码支付", "accent": "#c8102e"},
    "etax_web": {"title": "社保费缴纳", "brand": "电子税务局", "pay_step": "扫码支付", "accent": "#c8102e"},
}
METHOD_LABELS = {"wechatpay.jsapi": "微信支付", "wechatpay.native": "微信扫码支付", "alipay.wap": "支付宝",
                 "alipay.qr": "支付宝扫码支付", "unionpay.qr": "云闪付扫码支付", "counter.voucher": "银行端缴费凭证（到银行柜台缴款）",
                 "fake.qr": "测试支付", "ccb.card": "建行支付"}


def look_of(channel: str) -> dict:
    return {"code": channel, **LOOKS.get(channel, LOOKS["etax_web"])}
