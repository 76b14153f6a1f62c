"""How each channel's pages look: colours and the words of its pay step; the names come from
``app.domain.labels`` (the one table of channel and method labels) and the templates are shared.

Colours are chosen for contrast: white text on each accent is at least 4.5:1 (WCAG AA).
"""
from __future__ import annotations

from app.domain.labels import CHANNEL_LABELS

# accent: header and primary buttons (white text on it, ≥ 4.5:1); pay_step: what the pay button says
STYLES = {
    "wechat_oa": {"service": "社保费缴费", "accent": "#06794a", "pay_step": "微信支付"},
    "wechat_city": {"service": "社保费缴费", "accent": "#06794a", "pay_step": "微信支付"},
    "alipay_citizen": {"service": "社保缴费", "accent": "#0e5fd8", "pay_step": "支付宝"},
    "unionpay_app": {"service": "社保缴费", "accent": "#c4000f", "pay_step": "云闪付"},
    "tax_app": {"service": "社保费缴纳", "accent": "#b00d26", "pay_step": "扫码支付"},
    "etax_web": {"service": "社保费缴纳", "accent": "#b00d26", "pay_step": "扫码支付"},
}
DEFAULT_STYLE = {"service": "社保费缴费", "accent": "#b00d26", "pay_step": "扫码支付"}


def look_of(channel: str, region_name: str | None = None) -> dict:
    """Title, brand line and colours of a channel's pages; a city service names the city chosen."""
    style = STYLES.get(channel, DEFAULT_STYLE)
    brand = CHANNEL_LABELS.get(channel, "")
    if region_name:
        brand = f"{brand} · {region_name}"
    return {"code": channel, "title": style["service"], "brand": brand, "accent": style["accent"],
            "pay_step": style["pay_step"], "region_name": region_name}
