"""Channel sessions on Redis (and in process, for the zero-setup run) and the remembered 本人 on
PostgreSQL and SQLite."""
from __future__ import annotations

import time
from datetime import datetime

import pytest
from sqlalchemy import create_engine

from app.adapters.channel_identities import SqlChannelIdentities
from app.adapters.channel_sessions import MemoryChannelSessions, RedisChannelSessions
from app.adapters.clock import SHANGHAI
from app.domain.model import Person
from app.migrate import upgrade_database

AT = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(params=["redis", "memory"])
def sessions(request, redis_client):
    redis_client.flushdb()
    return RedisChannelSessions(redis_client) if request.param == "redis" else MemoryChannelSessions()


def test_a_session_keeps_the_channel_user_and_whom_they_identified(sessions):
    token = sessions.create({"channel": "wechat_oa", "user_id": "o-1"}, ttl_seconds=60)
    assert sessions.add_person(token, 7, "self") and sessions.add_person(token, 9, "relative")
    assert sessions.set_self(token, 7)
    data = sessions.get(token)
    assert (data["channel"], data["user_id"], data["self_person_id"]) == ("wechat_oa", "o-1", 7)
    assert data["persons"] == {7: "self", 9: "relative"}


def test_an_ended_or_expired_session_is_not_brought_back_by_a_late_write(sessions):
    ended = sessions.create({"channel": "wechat_oa", "user_id": "o-1"}, ttl_seconds=60)
    sessions.end(ended)
    expired = sessions.create({"channel": "wechat_oa", "user_id": "o-2"}, ttl_seconds=1)
    time.sleep(1.1)
    for token in (ended, expired):
        assert not sessions.add_person(token, 7, "self") and not sessions.set_self(token, 7)
        assert sessions.get(token) is None


def test_a_redis_session_expires_with_its_ttl(redis_client):
    redis_client.flushdb()
    token = RedisChannelSessions(redis_client).create({"channel": "alipay_citizen", "user_id": "2088"}, 120)
    assert 0 < redis_client.ttl("chsession:" + token) <= 120


def test_a_pending_entry_is_taken_once(sessions):
    sessions.put_state("st-1", {"channel": "wechat_city", "region": "370200"}, ttl_seconds=60)
    assert sessions.take_state("st-1") == {"channel": "wechat_city", "region": "370200"}
    assert sessions.take_state("st-1") is None and sessions.take_state("never") is None


def add_person(container, number: str) -> int:
    with container.uow() as uow:
        person = uow.persons.add(Person(id_type="resident_id", id_number=number, name="王小明", phone=None))
        uow.commit()
    return person.id


def test_identifying_oneself_again_moves_the_remembered_self_on_postgresql(container):
    identities = SqlChannelIdentities(container.engine)
    first, second = add_person(container, "11010519491231002X"), add_person(container, "370202198503150013")
    assert identities.self_person("wechat_oa", "o-1") is None
    identities.bind_self("wechat_oa", "o-1", first, AT)
    identities.bind_self("wechat_oa", "o-1", second, AT)
    identities.bind_self("wechat_city", "o-1", first, AT)
    assert identities.self_person("wechat_oa", "o-1") == second
    assert identities.self_person("wechat_city", "o-1") == first


def test_the_remembered_self_works_on_sqlite_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'channels.db'}"
    upgrade_database(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO person (id, id_type, id_number_index, id_number_enc, name_enc, created_at) "
                             "VALUES (1, 'resident_id', 'i1', x'00', x'00', '2026-11-23'), "
                             "(2, 'resident_id', 'i2', x'00', x'00', '2026-11-23')")
    identities = SqlChannelIdentities(engine)
    identities.bind_self("unionpay_app", "u-1", 1, AT)
    identities.bind_self("unionpay_app", "u-1", 2, AT)
    assert identities.self_person("unionpay_app", "u-1") == 2
    engine.dispose()
