"""Public verification is rate-limited per client address, page and API sharing one counter in Redis."""
from __future__ import annotations

import pytest

from tests.e2e.test_api_lookback import posted  # noqa: F401  (fixture)


@pytest.fixture
def app(settings, database, redis_client, clock):
    from app.factory import create_app
    from payments.fake.provider import FakeProvider
    from tests.conftest import reset_state

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], "api": settings["CHANNEL_PAYMENT_METHODS"]["api"] + ["fake.qr"]}
    app = create_app(dict(settings, CHANNEL_PAYMENT_METHODS=methods, VERIFY_RATE_LIMIT="3 per minute"), clock=clock,
                     providers={"fake": FakeProvider()})
    reset_state(app, redis_client)
    yield app
    app.extensions["sbf"].engine.dispose()


def test_verification_beyond_the_limit_is_refused_with_429_on_api_and_page_alike(client, posted, redis_client):
    _, _, tickets = posted
    answers = [client.get(f"/api/v1/verifications?e_ticket_number={tickets[0]}").status_code,
               client.get(f"/verify?e_ticket_number={tickets[0]}").status_code,
               client.get("/api/v1/verifications?e_ticket_number=00000000000000000000").status_code]
    assert answers == [200, 200, 404]  # not-found answers count too: guessing costs the same
    refused = client.get(f"/api/v1/verifications?e_ticket_number={tickets[0]}")
    assert refused.status_code == 429
    assert refused.json == {"code": "too_many_requests", "status": 429, "message": "操作过于频繁，请稍后再试",
                            "errors": {}}
    page = client.get(f"/verify?e_ticket_number={tickets[0]}")
    assert page.status_code == 429 and "查验过于频繁" in page.get_data(as_text=True)
    assert client.get("/verify").status_code == 200  # the empty form costs nothing
    assert any(b"verification" in key for key in redis_client.keys("*"))  # counted in Redis, not in memory
    other = client.get(f"/api/v1/verifications?e_ticket_number={tickets[0]}",
                       environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200  # another client has its own allowance


def test_the_limiter_is_shared_and_initialised_once_per_app(app):
    from app import limits

    first = limits.init_limiter(app)
    assert limits.init_limiter(app) is first is limits.limiter
    assert app.config["RATELIMIT_STORAGE_URI"] == app.config["REDIS_URL"]
    assert list(app.extensions["limiter"]) == [first]


def test_without_redis_the_limiter_counts_in_memory():
    from app.limits import storage_uri

    assert storage_uri({"RATELIMIT_STORAGE_URI": "", "REDIS_URL": ""}) == "memory://"
    assert storage_uri({"RATELIMIT_STORAGE_URI": "", "REDIS_URL": "redis://r:6379/0"}) == "redis://r:6379/0"
    assert storage_uri({"RATELIMIT_STORAGE_URI": "redis://limits/1", "REDIS_URL": "redis://r/0"}) == "redis://limits/1"
