"""Payment methods narrowed by region (税税通 青岛 vs 移动办税 西藏)."""
from __future__ import annotations

import pytest

from app.domain.errors import InvalidInput
from app.services.channel_regions import check_method_for_regions, methods_for_regions

TABLE = {"tax_app": {"370200": ["wechatpay.native", "alipay.qr", "unionpay.qr"], "540000": ["ccb.card", "alipay.qr"]}}
ALL = ["wechatpay.native", "alipay.qr", "unionpay.qr", "ccb.card"]


def test_each_region_offers_its_own_methods_and_other_channels_are_untouched():
    assert methods_for_regions("tax_app", ALL, ["540000"], TABLE) == ["alipay.qr", "ccb.card"]
    assert methods_for_regions("tax_app", ALL, ["370200"], TABLE) == ["wechatpay.native", "alipay.qr", "unionpay.qr"]
    assert methods_for_regions("tax_app", ALL, ["370200", "540000"], TABLE) == ["alipay.qr"]
    assert methods_for_regions("wechat_oa", ALL, ["540000"], TABLE) == ALL


def test_a_method_of_another_region_is_refused_in_chinese():
    with pytest.raises(InvalidInput) as refused:
        check_method_for_regions("tax_app", "ccb.card", ["ccb.card"], ["370200"], TABLE)
    assert refused.value.code == "method_not_allowed" and "该地区" in refused.value.message
