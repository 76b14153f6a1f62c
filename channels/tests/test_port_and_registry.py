"""The channel port stays standard-library only, the registry builds channels by code from
settings, and every channel wired to the sandboxes keeps the port's promises."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from channels.base import MODULES, ChannelAdapter, MenuItem, find_menu_item, standard_menu
from channels.registry import build_channels
from channels.sandbox.wiring import sandbox_channel_settings
from config.settings import Base

ROOT = Path(__file__).resolve().parents[2]


def test_the_port_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "channels" / "base.py").read_text("utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def wired(tmp_path_factory):
    urls = {"wechat": "http://127.0.0.1:9", "unionpay_open": "http://127.0.0.1:9", "alipay": "http://127.0.0.1:9"}
    return sandbox_channel_settings(Base.SANDBOX_CHANNELS, tmp_path_factory.mktemp("keys"), urls,
                                    "https://tax.example.cn")


def test_the_registry_builds_the_four_channels_by_code(wired):
    channels = build_channels(wired)
    assert list(channels) == ["wechat_oa", "wechat_city", "alipay_citizen", "unionpay_app", "tax_app"]
    assert all(isinstance(c, ChannelAdapter) for c in channels.values())


def test_a_factory_that_builds_another_channel_is_refused(wired):
    with pytest.raises(ValueError):
        build_channels({"wechat_city": wired["wechat_oa"]})


def test_every_channel_offers_what_the_settings_allow_it(wired):
    for code, channel in build_channels(wired).items():
        assert set(channel.payment_methods) <= set(Base.CHANNEL_PAYMENT_METHODS[code]), code
        assert channel.payment_methods, code


def test_every_menu_item_is_one_of_the_shared_modules(wired):
    def walk(items):
        for item in items:
            yield item
            yield from walk(item.children)

    for channel in build_channels(wired).values():
        assert {item.module for item in walk(channel.menu())} <= set(MODULES)


def test_menu_items_are_found_at_any_depth():
    menu = (MenuItem("a", "A", "pay", children=(MenuItem("b", "B", "records"),)),) + standard_menu()
    assert find_menu_item(menu, "b").title == "B" and find_menu_item(menu, "records").module == "records"
    assert find_menu_item(menu, "nope") is None
