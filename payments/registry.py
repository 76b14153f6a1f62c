"""Builds payment providers from settings: ``{code: (dotted path of a factory, kwargs)}``.

An explicit registry (no entry points, no import-time side effects): the settings name each
provider's factory, and ``app/bootstrap.py`` calls ``build_provider`` once per provider and app,
when the provider is first asked for (its SDK is imported then, not at start-up).

A factory's module may offer ``check_settings(**kwargs)`` beside it: what the factory would
refuse (a missing setting, a key that does not load), raised as ValueError or TypeError, with
no SDK imported and nothing sent. The production settings check (``config/checks.py``) calls
it at start, so a bad key still stops the service before it serves although the provider is
built later. A factory without an SDK may simply be its own check.
"""
from __future__ import annotations

import importlib
from typing import Any, Mapping

from payments.base import PaymentProvider


def load_object(dotted: str) -> Any:
    """Import ``package.module:attr`` (or ``package.module.attr``)."""
    module_name, _, attr = dotted.partition(":") if ":" in dotted else dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def build_providers(settings: Mapping[str, tuple[str, Mapping[str, Any]]]) -> dict[str, PaymentProvider]:
    """Create every provider named in the settings, keyed by its code."""
    return {code: build_provider(code, factory_path, kwargs) for code, (factory_path, kwargs) in settings.items()}


def build_provider(code: str, factory_path: str, kwargs: Mapping[str, Any]) -> PaymentProvider:
    """Create one provider from its factory and settings; it must say it is the provider named ``code``."""
    provider = load_object(factory_path)(**dict(kwargs))
    if provider.code != code:
        raise ValueError(f"provider built for {code!r} says it is {provider.code!r}")
    return provider
