"""The channel services over in-memory fakes: entry and state, authorization outcomes, who is who
within a channel session, and refusals before anything is written."""
from __future__ import annotations

from datetime import datetime

import pytest

from app.adapters.channel_sessions import MemoryChannelSessions
from app.adapters.clock import SHANGHAI, FixedClock
from app.adapters.policy_files import load_policy_book
from app.domain.channels import ServiceUnavailable
from app.domain.documents import resident_id_check_char
from app.domain.errors import InvalidInput, NotFound, Unauthenticated
from app.domain.policy import PolicyBook
from app.services import bureau, channel_payments, channel_sessions as cs
from channels.base import (AUTH_OAUTH, START_REDIRECT, AuthFailed, ChannelUnavailable, ChannelUser, Entry,
                           PaymentStart, standard_menu)
from config.settings import ROOT
from tests.fakes import FakeSessions, FakeUnitOfWork

BOOK = load_policy_book(ROOT / "config" / "policies")
NUMBER = "37020219850315001" + resident_id_check_char("37020219850315001")
SETTINGS = cs.ChannelSettings(public_base_url="https://tax.example.cn")
METHODS = {"fake_channel": ["alipay.wap", "wechatpay.native"]}


class FakeChannel:
    code, title, auth_kind, needs_region = "fake_channel", "测试渠道", AUTH_OAUTH, False
    payment_methods = ("alipay.wap",)

    def __init__(self):
        self.trouble = None
        self.entries = []

    def entry(self, request):
        self.entries.append(request)
        return Entry(AUTH_OAUTH, url=f"https://channel.example/authorize?state={request.state}")

    def authenticate(self, grant):
        if self.trouble:
            raise self.trouble
        return ChannelUser(self.code, "user-" + grant.code, display="测试用户")

    def payer_ref(self, user):
        return None

    def start_payment(self, payment):
        return PaymentStart(START_REDIRECT, url=payment.pay_url)

    def menu(self):
        return standard_menu()

    def page_config(self, url):
        return {}


class FakeIdentities:
    def __init__(self):
        self.selves = {}

    def bind_self(self, channel, channel_user, person_id, at):
        self.selves[(channel, channel_user)] = person_id

    def self_person(self, channel, channel_user):
        return self.selves.get((channel, channel_user))


@pytest.fixture
def world():
    uow, clock = FakeUnitOfWork(), FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))
    bureau.import_enrollments([{"name": "张伟", "id_type": "resident_id", "id_number": NUMBER, "insurance": "pension",
                                "region": "370200", "category": "flexible", "insured_number": "Q1",
                                "start_month": "2019-03"}], uow, clock)
    channel = FakeChannel()
    w = {"uow": uow, "clock": clock, "channel": channel, "channels": {"fake_channel": channel},
         "sessions": MemoryChannelSessions(), "id_sessions": FakeSessions(), "identities": FakeIdentities()}
    w["ports"] = cs.ChannelPorts(channels=w["channels"], sessions=w["sessions"], identities=w["identities"],
                                 settings=SETTINGS, id_sessions=w["id_sessions"], policies=BOOK, clock=clock)
    return w


def begin(w, **kwargs):
    return cs.begin_entry("fake_channel", w["ports"], **kwargs)


def start(w, code="c1", state=None):
    state = state or begin(w)["state"]
    return cs.start_channel_session("fake_channel", code, state, w["ports"])


def identify(w, token, relation="self", name="张伟"):
    return cs.identify_in_channel("fake_channel", token, cs.Identify(name, "resident_id", NUMBER, relation), w["uow"],
                                  w["ports"])


def test_the_entry_comes_back_to_our_callback_with_a_fresh_state(world):
    entry = begin(world)
    request = world["channel"].entries[-1]
    assert request.redirect_uri == "https://tax.example.cn/channels/fake_channel/callback"
    assert request.state == entry["state"] and len(entry["state"]) >= 20 and entry["url"].endswith(entry["state"])


def test_an_entry_that_would_send_the_code_elsewhere_is_refused(world):
    with pytest.raises(InvalidInput) as refused:
        begin(world, redirect_uri="https://evil.example/steal")
    assert refused.value.code == "redirect_uri_not_allowed"


def test_an_unknown_channel_reads_as_not_found(world):
    with pytest.raises(NotFound):
        cs.begin_entry("tax_app", world["ports"])


def test_a_state_starts_one_session_only(world):
    state = begin(world)["state"]
    assert start(world, state=state)["channel_user"] == "user-c1"
    with pytest.raises(Unauthenticated) as refused:
        start(world, state=state)
    assert refused.value.code == "channel_state_invalid"


def test_a_refused_code_is_401_and_a_platform_down_is_503_in_chinese(world):
    world["channel"].trouble = AuthFailed("code_used")
    with pytest.raises(Unauthenticated) as refused:
        start(world)
    world["channel"].trouble = ChannelUnavailable("unreachable")
    with pytest.raises(ServiceUnavailable) as down:
        start(world)
    assert refused.value.code == "channel_auth_failed" and down.value.message == "测试渠道暂时无法完成授权，请稍后再试"


def test_identifying_oneself_is_remembered_for_the_next_session(world):
    first = start(world)["channel_token"]
    found = identify(world, first)
    person_id = world["id_sessions"].get(found["token"])
    assert found["relation"] == "self" and world["identities"].self_person("fake_channel", "user-c1") == person_id
    later = start(world)
    assert later["self_identified"]


def test_a_relative_is_kept_apart_from_oneself(world):
    token = start(world)["channel_token"]
    identify(world, token, relation="relative")
    session = world["sessions"].get(token)
    assert list(session["persons"].values()) == ["relative"] and session["self_person_id"] is None
    assert world["identities"].selves == {}


def test_a_wrong_name_answers_like_an_unknown_number_and_remembers_no_one(world):
    token = start(world)["channel_token"]
    with pytest.raises(NotFound) as wrong:
        identify(world, token, name="张三")
    assert wrong.value.code == "identity_not_matched" and world["sessions"].get(token)["persons"] == {}


def test_without_a_channel_session_nothing_is_identified(world):
    with pytest.raises(Unauthenticated):
        identify(world, "no-such-token")
    assert world["id_sessions"].data == {}


def test_an_order_needs_persons_identified_in_this_channel_session(world):
    token = start(world)["channel_token"]
    with pytest.raises(Unauthenticated):
        channel_payments.create_channel_order("fake_channel", token, _new_order([1]), world["uow"],
                                              _payment_ports(world), world["ports"])


def test_an_order_with_a_method_the_channel_cannot_start_is_refused(world):
    token = start(world)["channel_token"]
    found = identify(world, token)
    person_id = world["id_sessions"].get(found["token"])
    with pytest.raises(InvalidInput) as refused:
        channel_payments.create_channel_order("fake_channel", token, _new_order([person_id], "wechatpay.native"),
                                              world["uow"], _payment_ports(world), world["ports"])
    assert refused.value.code == "method_not_allowed"


def _new_order(person_ids, method=""):
    from app.services.orders import NewOrder

    return NewOrder(person_ids=person_ids, assessment_ids=[1], channel="fake_channel", method=method,
                    confirmed_amount_fen=100)


def _payment_ports(world):
    from app.services.orders import PaymentPorts, PaymentSettings

    return PaymentPorts(providers={}, clock=world["clock"], numbers=None, policies=PolicyBook([]),
                        settings=PaymentSettings(notify_base_url="https://tax.example.cn", channel_methods=METHODS))
