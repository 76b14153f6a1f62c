"""Payment methods that depend on the region as well as the channel (the tax app: 税税通 in 青岛
offers what the other 青岛 channels do, seed 002; 移动办税 in 西藏 offers 建行支付 and 支付宝, seed 004)."""
from __future__ import annotations

from typing import Iterable, Mapping

from app.domain.errors import InvalidInput


def methods_for_regions(channel: str, methods: list[str], regions: Iterable[str],
                        region_methods: Mapping[str, Mapping[str, list[str]]]) -> list[str]:
    """The channel's methods narrowed to those every region of the chosen assessments allows."""
    table = region_methods.get(channel)
    if not table:
        return methods
    allowed = set(methods)
    for region in set(regions):
        if region in table:
            allowed &= set(table[region])
    return [m for m in methods if m in allowed]


def check_method_for_regions(channel: str, method: str, methods: list[str], regions: Iterable[str],
                             region_methods: Mapping[str, Mapping[str, list[str]]]) -> None:
    if method not in methods_for_regions(channel, methods, regions, region_methods):
        raise InvalidInput("method_not_allowed", "该地区不支持所选支付方式，请选择其他支付方式", field="method")
