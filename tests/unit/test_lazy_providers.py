"""The composition root builds each payment provider when its code is first asked for, once."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.bootstrap import LazyProviders
from app.gunicorn_worker import warm_worker_app


@pytest.fixture
def built():
    return []


@pytest.fixture
def providers(built):
    reads = []

    def read_settings():
        reads.append(1)
        return {"fake": ("payments.fake.provider:build", {"code": "fake"}),
                "other": ("payments.fake.provider:build", {"code": "other"})}

    def wrap(provider):
        built.append(provider.code)
        return provider

    lazy = LazyProviders(read_settings, wrap=wrap)
    lazy.reads = reads
    return lazy


def test_nothing_is_read_or_built_until_a_code_is_needed(providers, built):
    assert providers.reads == [] and built == []


def test_asking_which_providers_exist_builds_none(providers, built):
    assert "fake" in providers and "unknown" not in providers
    assert sorted(providers) == ["fake", "other"] and len(providers) == 2
    assert built == [] and providers.reads == [1]


def test_a_provider_is_built_when_first_asked_for_and_only_once(providers, built):
    first = providers["fake"]
    assert providers["fake"] is first and first.code == "fake"
    assert built == ["fake"]
    assert providers.get("agreement") is None  # no bank configured: the debit jobs say so
    assert built == ["fake"] and providers.reads == [1]


def test_a_factory_that_builds_another_provider_is_refused_when_first_asked_for():
    providers = LazyProviders(lambda: {"wechatpay": ("payments.fake.provider:build", {"code": "fake"})})
    with pytest.raises(ValueError, match="provider built for 'wechatpay' says it is 'fake'"):
        providers["wechatpay"]


def test_a_web_worker_builds_its_app_s_providers_before_it_serves(providers, built):
    warm_worker_app(SimpleNamespace(wsgi=SimpleNamespace(extensions={"sbf": SimpleNamespace(
        warm=lambda: [providers[code] for code in providers])})))
    assert sorted(built) == ["fake", "other"]
    warm_worker_app(SimpleNamespace(wsgi=object()))  # an app that is not ours: nothing to build
