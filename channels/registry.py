"""Builds channel adapters from settings: ``{code: (dotted path of a factory, kwargs)}``.

The same explicit registry as the payment providers' (``payments/registry.py``): no entry
points, nothing at import time. Adding a channel is a package with a factory and one entry in
the settings; the core finds it by code.
"""
from __future__ import annotations

from typing import Any, Mapping

from channels.base import ChannelAdapter
from payments.registry import load_object


def build_channels(settings: Mapping[str, tuple[str, Mapping[str, Any]]]) -> dict[str, ChannelAdapter]:
    """Create every channel named in the settings, keyed by its code."""
    channels: dict[str, ChannelAdapter] = {}
    for code, (factory_path, kwargs) in settings.items():
        channel = load_object(factory_path)(**dict(kwargs))
        if channel.code != code:
            raise ValueError(f"channel built for {code!r} says it is {channel.code!r}")
        if not isinstance(channel, ChannelAdapter):
            raise TypeError(f"{factory_path} did not build a ChannelAdapter")
        channels[code] = channel
    return channels
