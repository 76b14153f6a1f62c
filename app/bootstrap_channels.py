"""The composition root's channel part: channel adapters, channel sessions and identities.

Kept beside ``app/bootstrap.py`` (which builds the core container) and called once per app by
``app/api/channels.init_app``. Channels come from ``CHANNELS`` (``{code: (factory, kwargs)}``,
like the payment providers); when it is empty, those in ``SANDBOX_CHANNELS`` are wired to the
local identity sandboxes. Sessions live in Redis when the container has it, else in this process.
The adapters are built on first use (loading keys takes a while, and most requests and most
tests never touch a channel); ``flask channels list`` builds them all, as a configuration check.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from app.adapters.channel_identities import SqlChannelIdentities
from app.adapters.channel_sessions import MemoryChannelSessions, RedisChannelSessions
from app.services.channel_sessions import ChannelIdentities, ChannelSessions, ChannelSettings
from channels.base import ChannelAdapter
from channels.registry import build_channels


class LazyChannels(Mapping[str, ChannelAdapter]):
    """The channels by code, built once, when first asked for."""

    def __init__(self, build: Callable[[], dict[str, ChannelAdapter]]):
        self._build = build
        self._channels: dict[str, ChannelAdapter] | None = None
        self._lock = threading.Lock()

    def _all(self) -> dict[str, ChannelAdapter]:
        if self._channels is None:
            with self._lock:
                if self._channels is None:
                    self._channels = self._build()
        return self._channels

    def __getitem__(self, code: str) -> ChannelAdapter:
        return self._all()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


@dataclass
class ChannelParts:
    """What the channel views hand to the channel services."""

    channels: Mapping[str, ChannelAdapter]
    sessions: ChannelSessions
    identities: ChannelIdentities
    settings: ChannelSettings


def build_channel_parts(settings: Mapping[str, Any], container) -> ChannelParts:
    """The channels and their stores for one app."""
    return ChannelParts(
        channels=LazyChannels(lambda: build_channels(channel_settings(settings))),
        sessions=RedisChannelSessions(container.redis) if container.redis is not None else MemoryChannelSessions(),
        identities=SqlChannelIdentities(container.engine),
        settings=ChannelSettings(public_base_url=settings["PUBLIC_BASE_URL"],
                                 session_ttl_seconds=int(settings["CHANNEL_SESSION_TTL_SECONDS"]),
                                 identification_ttl_seconds=int(settings["IDENTIFICATION_TTL_SECONDS"])))


def channel_settings(settings: Mapping[str, Any]) -> dict:
    """The configured channels, or the four channels against the local sandboxes."""
    if settings.get("CHANNELS"):
        return {code: (path, kwargs) for code, (path, kwargs) in settings["CHANNELS"].items()}
    from channels.sandbox.wiring import sandbox_channel_settings  # the one place channels meet the sandboxes

    urls = {**settings["SANDBOX_URLS"], **settings["CHANNEL_SANDBOX_URLS"]}
    return sandbox_channel_settings(settings["SANDBOX_CHANNELS"], settings["SANDBOX_KEY_DIR"], urls,
                                    settings["PUBLIC_BASE_URL"], token_store_url=settings.get("REDIS_URL") or None)
