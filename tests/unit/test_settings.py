"""Settings from a file and from SBF_* variables, checked at start; what production refuses."""
from __future__ import annotations

import base64
import json
import os

import pytest

from config.settings import load_settings
from config.sources import SettingsError


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def env(monkeypatch):
    """A clean SBF_* environment the test fills in."""
    for name in list(os.environ):
        if name.startswith("SBF_"):
            monkeypatch.delenv(name)

    def put(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return put


def production_env(env, tmp_path, **extra):
    """Everything production needs, valid, with a real-looking (not sandbox) provider."""
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(f'''
PAYMENT_PROVIDERS = {{ counter = ["payments.counter.provider:build", {{}}] }}
COUNTER_BANK_KEYS = {{ ccb = "{key()}" }}
''', encoding="utf-8")
    values = dict(SBF_SETTINGS_FILE=str(settings_file), SBF_DATABASE_URL="postgresql+psycopg://sbf@db.internal/sbf",
                  SBF_REDIS_URL="redis://cache.internal:6379/0", SBF_ENCRYPTION_KEY=key(), SBF_INDEX_KEY=key(),
                  SBF_SECRET_KEY=key(), SBF_BUREAU_API_KEYS=key(), SBF_PUBLIC_BASE_URL="https://sbf.example.gov.cn")
    values.update(extra)
    env(**values)


def problems(name="production") -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_settings(name)
    return raised.value.problems


def test_production_starts_from_a_toml_file_and_the_environment(env, tmp_path):
    production_env(env, tmp_path)
    values = load_settings("production")
    factory, kwargs = values["PAYMENT_PROVIDERS"]["counter"]
    assert factory == "payments.counter.provider:build"
    assert set(kwargs["bank_keys"]) == {"ccb"}  # the counter takes the shared bank keys
    assert kwargs["voucher_base_url"] == "https://sbf.example.gov.cn/api/v1/vouchers"
    assert values["SESSION_COOKIE_SECURE"] is True and values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SANDBOX_CHANNELS"] == ()


def test_structured_settings_come_from_json_in_the_environment(env, tmp_path):
    production_env(env, tmp_path, SBF_COUNTER_BANK_KEYS=json.dumps({"icbc": key()}),
                   SBF_CHANNEL_PAYMENT_METHODS=json.dumps({"api": ["counter.voucher"]}),
                   SBF_TRUSTED_PROXY_COUNT="1", SBF_BUREAU_API_KEYS=f"{key()},{key()}")
    values = load_settings("production")
    assert set(values["COUNTER_BANK_KEYS"]) == {"icbc"}
    assert values["CHANNEL_PAYMENT_METHODS"] == {"api": ["counter.voucher"]}
    assert values["TRUSTED_PROXY_COUNT"] == 1
    assert len(values["BUREAU_API_KEYS"]) == 2


def test_a_json_settings_file_works_like_a_toml_one(env, tmp_path):
    production_env(env, tmp_path)
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"PAYMENT_PROVIDERS": {"counter": ["payments.counter.provider:build", {}]},
                                "COUNTER_BANK_KEYS": {"ccb": key()}, "ORDER_EXPIRY_MINUTES": 15}))
    env(SBF_SETTINGS_FILE=str(path))
    assert load_settings("production")["ORDER_EXPIRY_MINUTES"] == 15


def test_malformed_values_are_named_with_where_they_came_from(env, tmp_path):
    production_env(env, tmp_path, SBF_PAYMENT_PROVIDERS="{not json", SBF_ORDER_EXPIRY_MINUTES="soon")
    found = problems()
    assert any(p.startswith("SBF_PAYMENT_PROVIDERS: expected JSON") for p in found)
    assert any(p.startswith("SBF_ORDER_EXPIRY_MINUTES: expected a int") for p in found)


def test_a_misspelt_setting_in_the_file_is_refused(env, tmp_path):
    production_env(env, tmp_path)
    path = tmp_path / "typo.toml"
    path.write_text('PAYMENT_PROVIDER = {}\n')
    env(SBF_SETTINGS_FILE=str(path))
    assert any(p.startswith("PAYMENT_PROVIDER: not a setting") for p in problems())


def test_production_refuses_the_sandboxes_a_loopback_url_and_test_keys(env, tmp_path):
    env(SBF_DATABASE_URL="postgresql+psycopg://sbf@db/sbf", SBF_REDIS_URL="redis://r:6379/0",
        SBF_ENCRYPTION_KEY="dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=", SBF_INDEX_KEY=key(),
        SBF_SECRET_KEY="test-secret", SBF_PUBLIC_BASE_URL="http://127.0.0.1:8000",
        SBF_BUREAU_API_KEYS="test-bureau-key")
    found = "\n".join(problems())
    assert "PAYMENT_PROVIDERS: required in production" in found
    assert "PUBLIC_BASE_URL: 127.0.0.1 is this machine's loopback" in found
    assert "ENCRYPTION_KEY: refused in production: it is a test setting's value" in found
    assert "SECRET_KEY: refused in production" in found
    assert "BUREAU_API_KEYS[0]: refused in production" in found


def test_production_refuses_a_sandbox_factory_a_provider_test_host_and_missing_keys(env, tmp_path):
    providers = {"wechatpay": ["payments.sandbox.wechatpay:create_sandbox_app", {}],
                 "alipay": ["payments.alipay.provider:build",
                            {"app_id": "2021", "seller_id": "2088", "app_private_key": "x",
                             "alipay_public_key": "y", "gateway_url": "https://openapi-sandbox.dl.alipaydev.com/gateway.do"}],
                 "unionpay": ["payments.unionpay.provider:build", {"mer_id": "777"}]}
    production_env(env, tmp_path, SBF_PAYMENT_PROVIDERS=json.dumps(providers),
                   SBF_CHANNELS=json.dumps({"wechat_oa": ["channels.wechat_oa.sandboxed:sandbox_settings", {}]}),
                   SBF_PUBLIC_BASE_URL="http://localhost:5000", SBF_SHOW_DEMO_PEOPLE="true")
    found = "\n".join(problems())
    assert "PAYMENT_PROVIDERS.wechatpay: payments.sandbox.wechatpay:create_sandbox_app is a local sandbox" in found
    assert "PAYMENT_PROVIDERS.alipay.gateway_url: openapi-sandbox.dl.alipaydev.com is the provider's test" in found
    assert "PAYMENT_PROVIDERS.unionpay: missing a required argument: 'root_cert'" in found
    assert "CHANNELS.wechat_oa: channels.wechat_oa.sandboxed:sandbox_settings is a local sandbox" in found
    assert "PUBLIC_BASE_URL: localhost is this machine's loopback" in found
    assert "SHOW_DEMO_PEOPLE" in found


def rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
            private.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode())


def test_production_refuses_a_provider_key_at_start_though_the_provider_is_built_on_first_use(env, tmp_path):
    ours, our_public = rsa_pair()
    providers = {"alipay": ["payments.alipay.provider:build",
                            {"app_id": "2021000000000000", "seller_id": "2088000000000000",
                             "app_private_key": ours, "alipay_public_key": our_public}],
                 "wechatpay": ["payments.wechatpay.provider:build",
                               {"mchid": "1900000109", "appid": "wx8888888888888888", "merchant_serial_no": "5157F09E",
                                "private_key": ours, "apiv3_key": "too-short", "platform_public_key": our_public,
                                "platform_public_key_id": "PUB_KEY_ID_0119000001092024"}],
                 "counter": ["payments.counter.provider:build", {}]}
    production_env(env, tmp_path, SBF_PAYMENT_PROVIDERS=json.dumps(providers))
    found = "\n".join(problems())
    assert "PAYMENT_PROVIDERS.alipay: alipay_public_key is our own application public key" in found
    assert "PAYMENT_PROVIDERS.wechatpay: apiv3_key: the APIv3 key must be 32 bytes" in found
    assert "PAYMENT_PROVIDERS.counter" not in found


def test_a_key_typed_by_hand_is_refused_even_when_long_enough(env, tmp_path):
    phrase = base64.b64encode(b"our-production-encryption-key-32").decode()
    production_env(env, tmp_path, SBF_ENCRYPTION_KEY=phrase, SBF_SECRET_KEY="my-dev-secret-key-that-is-long-enough-ok")
    found = "\n".join(problems())
    assert "ENCRYPTION_KEY: refused in production: it decodes to readable text" in found
    assert "SECRET_KEY: refused in production: it looks typed by hand" in found


def test_development_and_testing_still_start_without_configuration(env, tmp_path, monkeypatch):
    assert load_settings("testing")["DATABASE_URL"]
    with pytest.raises(SettingsError, match="SBF_SETTINGS: 'staging' is not one of"):
        load_settings("staging")


@pytest.mark.parametrize("value, expected", [("0", 0), ("4", 4)])
def test_reconciliations_parallel_workers_come_from_the_environment(env, tmp_path, value, expected):
    production_env(env, tmp_path, SBF_RECONCILIATION_PARALLEL_WORKERS=value)
    assert load_settings("production")["RECONCILIATION_PARALLEL_WORKERS"] == expected


@pytest.mark.parametrize("value", ["-1", "65", "two"])
def test_a_negative_or_absurd_number_of_parallel_workers_is_refused(env, tmp_path, value):
    production_env(env, tmp_path, SBF_RECONCILIATION_PARALLEL_WORKERS=value)
    assert any("RECONCILIATION_PARALLEL_WORKERS" in p for p in problems())
