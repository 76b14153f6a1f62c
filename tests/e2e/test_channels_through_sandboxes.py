"""Every channel, for real: our app served on 127.0.0.1, the identity sandboxes (WeChat, 云闪付's open
platform, Alipay's login on its gateway) and the payment sandboxes, each speaking its protocol.

For 公众号, 城市服务, 市民中心 and 云闪付: authorize at the channel's sandbox → identify a demo person
within the channel → pick an enrollment → choose a base or grade → declare → pay with the
channel's method → the order records the channel and the channel user; paying for a relative
records both people and shows the relative masked. Also: a WeChat message with a bad signature
is refused, the identification limit answers 429 in Chinese, and a browser entry lands on the
payer pages with the channel session.
"""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.adapters import tables as t
from channels.sandbox.wechat import ensure_account
from channels.sandbox.wechat_server import WeChatServer, reply_fields
from payments.sandbox.common import SandboxClient
from tests.conftest import reset_state
from tests.e2e.test_api_core_flow import DEMO, ZHANG, enrollment_id
from tests.served import served_world
from tests.timeline import wall_month

WANG = next(r for r in DEMO["enrollments"] if r["name"] == "王芳")  # 贵州 flexible pension, by grade
LI = next(r for r in DEMO["enrollments"] if r["name"] == "李秀英")  # 青岛 flexible pension, by base
CHANNELS = ("wechat_oa", "wechat_city", "alipay_citizen", "unionpay_app")
PAYS_AT = {"wechat_oa": "wechatpay", "wechat_city": "wechatpay", "alipay_citizen": "alipay",
           "unionpay_app": "unionpay"}
REGION = {"wechat_city": "370200"}


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory):
    """Payment and identity sandboxes and our app, each on its own loopback port."""
    with served_world(settings, tmp_path_factory.mktemp("channel-keys"), IDENTIFY_LIMIT_PER_CHANNEL_USER="3 per hour",
                      IDENTIFY_LIMIT_PER_IP="8 per hour") as world:
        yield world


@pytest.fixture
def env(world, redis_client):
    for url in [*world["pay_urls"].values(), *world["id_urls"].values()]:  # first: see test_pay_through_sandboxes
        SandboxClient(url).reset()
    reset_state(world["app"], redis_client)
    assert world["app"].test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    return world


@pytest.fixture
def client(env):
    return env["app"].test_client()


@pytest.fixture(params=CHANNELS)
def channel(request):
    return request.param


# -- the steps, as a channel's pages take them -------------------------------------------------

def authorize_at_sandbox(url: str, user: str) -> tuple[str, str]:
    """Open the channel's authorization page as ``user``; it redirects back with a code and our state."""
    base, _, fragment = url.partition("#")  # WeChat's URL ends with #wechat_redirect
    answer = requests.get(base + "&sandbox_user=" + user, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return (query.get("code") or query["auth_code"])[0], query["state"][0]


def channel_login(client, code: str, user: str) -> tuple[dict, dict]:
    query = {"region": REGION[code]} if code in REGION else {}
    entry = client.get(f"/api/v1/channels/{code}/entry", query_string=query)
    assert entry.status_code == 200, entry.json
    auth_code, state = authorize_at_sandbox(entry.json["url"], user)
    started = client.post(f"/api/v1/channels/{code}/sessions", json={"code": auth_code, "state": state})
    assert started.status_code == 201, started.json
    return started.json, {"X-Channel-Token": started.json["channel_token"]}


def identify_in(client, code: str, channel_headers: dict, row: dict, relation: str = "self", name=None):
    return client.post(f"/api/v1/channels/{code}/identifications", headers=channel_headers, json={
        "name": name or row["name"], "id_type": row["id_type"], "id_number": row["id_number"], "relation": relation})


def declare_current_month(client, identified: dict) -> tuple[list[int], int]:
    """Pick the pension enrollment, choose a base (or a grade, where the region uses grades), declare."""
    headers = {"X-Session-Token": identified["token"]}
    eid = enrollment_id(identified, "pension")
    month = wall_month()
    options = client.get(f"/api/v1/enrollments/{eid}/options", headers=headers)
    assert options.status_code == 200, options.json
    choice = ({"grade": options.json["grades"][0]["code"]} if options.json["scheme"] == "grade"
              else {"base_fen": options.json["base_min_fen"]})
    chosen = client.post(f"/api/v1/enrollments/{eid}/choices", json={**choice, "effective_month": month},
                         headers=headers)
    assert chosen.status_code == 201, chosen.json
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": [month]}, headers=headers)
    assert declared.status_code == 201, declared.json
    return [a["id"] for a in declared.json["assessments"]], declared.json["total_fen"]


def pay_in_channel(client, env, code: str, channel_headers: dict, identified: dict, ids, total) -> dict:
    headers = {**channel_headers, "X-Session-Token": identified["token"]}
    created = client.post(f"/api/v1/channels/{code}/orders", headers=headers,
                          json={"assessment_ids": ids, "confirmed_amount_fen": total})
    assert created.status_code == 201, created.json
    order = created.json
    provider = PAYS_AT[code]
    assert order["provider"] == provider and order["channel"] == code and order["start"] is not None
    if provider == "alipay":  # Alipay learns of a wap trade when its cashier page is opened
        assert order["start"]["kind"] == "redirect"
        assert requests.get(order["start"]["url"], timeout=10).status_code == 200
    SandboxClient(env["pay_urls"][provider]).pay(order["order_no"])
    return wait_posted(client, code, channel_headers, order["order_no"])


def wait_posted(client, code, channel_headers, order_no, timeout=15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = client.get(f"/api/v1/channels/{code}/orders/{order_no}", headers=channel_headers)
        assert shown.status_code == 200, shown.json
        if shown.json["state"] == "posted":
            return shown.json
        time.sleep(0.05)
    raise AssertionError(f"order {order_no} is {shown.json['state']}, not posted")


def stored_order(env, order_no):
    with env["app"].extensions["sbf"].engine.connect() as conn:
        order = conn.execute(select(t.payment_order).where(t.payment_order.c.order_no == order_no)).one()
        items = conn.execute(select(t.order_item.c.person_id).where(t.order_item.c.order_id == order.id)).all()
    return order, {row.person_id for row in items}


def person_id_of(env, token: str) -> int:
    return env["app"].extensions["sbf"].sessions.get(token)


# -- done when ---------------------------------------------------------------------------------

def test_each_channel_pays_for_oneself_and_records_the_channel_and_its_user(client, env, channel):
    started, ch = channel_login(client, channel, "alice")
    identified = identify_in(client, channel, ch, ZHANG)
    assert identified.status_code == 201, identified.json
    ids, total = declare_current_month(client, identified.json)
    posted = pay_in_channel(client, env, channel, ch, identified.json, ids, total)

    assert posted["channel"] == channel and posted["channel_user"] == started["channel_user"]
    assert posted["paid_by_me"] and not posted["for_others"]
    assert all(i["e_ticket_number"] and i["relation"] == "self" for i in posted["items"])
    stored, insured = stored_order(env, posted["order_no"])
    zhang = person_id_of(env, identified.json["token"])
    assert (stored.channel, stored.channel_user, stored.payer_person_id) == (channel, started["channel_user"], zhang)
    assert insured == {zhang}
    history = client.get(f"/api/v1/channels/{channel}/orders", headers=ch)
    assert [o["order_no"] for o in history.json] == [posted["order_no"]]


def test_each_channel_pays_for_a_relative_and_keeps_both_people_with_the_relative_masked(client, env, channel):
    started, ch = channel_login(client, channel, "bob")
    me = identify_in(client, channel, ch, LI)
    relative = identify_in(client, channel, ch, WANG, relation="relative")
    assert me.status_code == relative.status_code == 201, relative.json
    assert relative.json["relation"] == "relative" and relative.json["person"]["name"] == "王*"
    ids, total = declare_current_month(client, relative.json)
    posted = pay_in_channel(client, env, channel, ch, relative.json, ids, total)

    stored, insured = stored_order(env, posted["order_no"])
    li, wang = person_id_of(env, me.json["token"]), person_id_of(env, relative.json["token"])
    assert (stored.channel_user, stored.payer_person_id) == (started["channel_user"], li)
    assert insured == {wang}
    history = client.get(f"/api/v1/channels/{channel}/orders", headers=ch).json
    assert len(history) == 1 and history[0]["for_others"] and history[0]["paid_by_me"]
    item = history[0]["items"][0]
    assert item["relation"] == "relative" and item["relation_label"] == "代他人缴费"
    assert item["insured"] == {"id_type": "resident_id", "id_type_label": "居民身份证", "name": "王*",
                               "id_number": WANG["id_number"][:4] + "*" * 10 + WANG["id_number"][-4:]}
    text = json.dumps(history, ensure_ascii=False)
    assert WANG["name"] not in text and WANG["id_number"] not in text and LI["id_number"] not in text


def test_the_relative_sees_the_payment_for_them_with_the_payers_channel_id_masked(client, env):
    started, payer = channel_login(client, "alipay_citizen", "carol")
    identify_in(client, "alipay_citizen", payer, LI)
    relative = identify_in(client, "alipay_citizen", payer, WANG, relation="relative").json
    ids, total = declare_current_month(client, relative)
    posted = pay_in_channel(client, env, "alipay_citizen", payer, relative, ids, total)

    theirs, wang_headers = channel_login(client, "alipay_citizen", "wang")
    assert identify_in(client, "alipay_citizen", wang_headers, WANG).status_code == 201
    seen = client.get("/api/v1/channels/alipay_citizen/orders", headers=wang_headers).json
    assert [o["order_no"] for o in seen] == [posted["order_no"]]
    assert not seen[0]["paid_by_me"] and seen[0]["items"][0]["relation"] == "self"
    assert not any(seen[0]["pay"].values())  # the payer's cashier link is not shown to others
    assert seen[0]["channel_user"] != started["channel_user"]
    assert seen[0]["channel_user"].startswith(started["channel_user"][:4]) and "*" in seen[0]["channel_user"]
    # and on a later visit, without identifying again, the history still finds it (本人 is remembered)
    _, later = channel_login(client, "alipay_citizen", "wang")
    assert [o["order_no"] for o in client.get("/api/v1/channels/alipay_citizen/orders", headers=later).json] == [
        posted["order_no"]]


def test_a_wechat_message_with_a_bad_signature_is_refused(env):
    server = WeChatServer(ensure_account(env["keys"]), env["ours"].url + "/channels/wechat_oa/message")
    forged = server.send(server.text("o-someone", "社保缴费"), token="not-the-token")
    assert forged.status == 403 and forged.reply_xml is None
    forged_encrypted = server.send(server.text("o-someone", "社保缴费"), encrypted=True, forge_msg_signature=True)
    assert forged_encrypted.status == 403
    genuine = server.send(server.text("o-someone", "社保缴费"), encrypted=True)
    assert genuine.status == 200
    assert env["ours"].url + "/channels/wechat_oa/start" in reply_fields(genuine.reply_xml)["urls"]


def test_failed_identifications_are_limited_per_channel_user_with_a_chinese_429(client, env):
    _, ch = channel_login(client, "wechat_oa", "mallory")
    unknown = {**ZHANG, "id_number": "11010519491231002X"}  # passes the check digit, belongs to no one here
    answers = [identify_in(client, "wechat_oa", ch, ZHANG, name="张三"), identify_in(client, "wechat_oa", ch, unknown),
               identify_in(client, "wechat_oa", ch, ZHANG, name="张三")]
    assert {a.status_code for a in answers} == {404}
    assert answers[0].json == answers[1].json and answers[0].json["code"] == "identity_not_matched"
    limited = identify_in(client, "wechat_oa", ch, ZHANG)
    assert limited.status_code == 429
    assert limited.json == {"code": "identification_rate_limited", "status": 429,
                            "message": "身份确认失败次数过多，请稍后再试", "errors": {}}
    # a new session of the same WeChat user is the same channel user: still limited
    _, again = channel_login(client, "wechat_oa", "mallory")
    assert identify_in(client, "wechat_oa", again, ZHANG).status_code == 429
    # another user of the same address is not, until the address itself has failed too often
    _, other = channel_login(client, "wechat_oa", "trent")
    assert identify_in(client, "wechat_oa", other, ZHANG).status_code == 201


def test_failed_identifications_are_limited_per_address_across_channel_users_and_the_core_api(client, env):
    for user in ("u1", "u2", "u3", "u4"):
        _, ch = channel_login(client, "unionpay_app", user)
        for _ in range(2):
            assert identify_in(client, "unionpay_app", ch, ZHANG, name="张三").status_code == 404
    _, fresh = channel_login(client, "unionpay_app", "u5")
    assert identify_in(client, "unionpay_app", fresh, ZHANG).status_code == 429
    core = [client.post("/api/v1/identifications", json={"name": "张三", "id_type": "resident_id",
                                                          "id_number": ZHANG["id_number"]}) for _ in range(9)]
    assert [a.status_code for a in core] == [404] * 8 + [429]
    assert core[-1].json["message"] == "身份确认失败次数过多，请稍后再试"


def test_a_browser_entry_goes_through_the_channel_and_lands_on_the_payer_pages_as_that_user(client, env):
    landed = client.get("/channels/wechat_oa/start?next=records")
    assert landed.status_code == 302 and landed.headers["Location"].startswith(env["id_urls"]["wechat"])
    at_wechat = requests.get(landed.headers["Location"].split("#")[0] + "&sandbox_user=dave", allow_redirects=False,
                             timeout=10)
    back = urlsplit(at_wechat.headers["Location"])
    assert back.path == "/channels/wechat_oa/callback"
    arrived = client.get(back.path + "?" + back.query)
    assert arrived.status_code == 302 and arrived.headers["Location"] == "/h5/wechat_oa/records"
    openid = ensure_account(env["keys"]).openid_of("dave")
    with client.session_transaction() as cookie:  # what the payer pages read: who pays, and JSAPI's openid
        assert (cookie["channel"], cookie["channel_user"], cookie["payer_ref"]) == ("wechat_oa", openid, openid)
        token = cookie["channel_token"]
    assert client.get("/api/v1/channels/wechat_oa/session",
                      headers={"X-Channel-Token": token}).json["channel_user"] == openid


def test_a_used_or_forged_state_does_not_start_a_session(client, env):
    entry = client.get("/api/v1/channels/unionpay_app/entry").json
    code, state = authorize_at_sandbox(entry["url"], "erin")
    assert client.post("/api/v1/channels/unionpay_app/sessions", json={"code": code, "state": state}).status_code == 201
    again = client.post("/api/v1/channels/unionpay_app/sessions", json={"code": code, "state": state})
    assert again.status_code == 401 and again.json["code"] == "channel_state_invalid"
    entry = client.get("/api/v1/channels/unionpay_app/entry").json
    code, state = authorize_at_sandbox(entry["url"], "erin")
    assert client.post("/api/v1/channels/wechat_oa/sessions", json={"code": code, "state": state}).status_code == 401


def test_a_code_the_channel_refuses_answers_401_and_a_channel_down_answers_503(client, env):
    entry = client.get("/api/v1/channels/wechat_oa/entry").json
    refused = client.post("/api/v1/channels/wechat_oa/sessions", json={"code": "made-up", "state": entry["state"]})
    assert refused.status_code == 401 and refused.json["code"] == "channel_auth_failed"
    entry = client.get("/api/v1/channels/unionpay_app/entry").json
    code, state = authorize_at_sandbox(entry["url"], "frank")
    SandboxClient(env["id_urls"]["unionpay_open"]).set_faults(api_5xx=True)
    down = client.post("/api/v1/channels/unionpay_app/sessions", json={"code": code, "state": state})
    assert down.status_code == 503 and down.json["code"] == "channel_unavailable"
    assert down.json["message"] == "云闪付暂时无法完成授权，请稍后再试"


def test_city_services_enter_with_a_region_and_list_its_enrollments_first(client, env):
    missing = client.get("/api/v1/channels/wechat_city/entry")
    assert missing.status_code == 400 and missing.json["code"] == "region_required"
    unknown = client.get("/api/v1/channels/wechat_city/entry?region=110000")
    assert unknown.status_code == 400 and unknown.json["code"] == "region_not_served"
    started, ch = channel_login(client, "wechat_city", "grace")
    assert started["region"] == "370200"
    session = client.get("/api/v1/channels/wechat_city/session", headers=ch).json
    assert session["region_name"] == "青岛市"
    identified = identify_in(client, "wechat_city", ch, ZHANG).json
    assert all(e["in_region"] for e in identified["enrollments"])
    assert client.delete("/api/v1/channels/wechat_city/session", headers=ch).status_code == 204
    ended = client.get("/api/v1/channels/wechat_city/session", headers=ch)
    assert ended.status_code == 401 and ended.json["code"] == "channel_session_required"


def test_the_wechat_pages_get_a_js_sdk_signature_for_our_pages_only(client, env):
    page = env["ours"].url + "/h5/wechat_oa/checkout"
    config = client.get("/api/v1/channels/wechat_oa/page-config", query_string={"url": page + "#top"})
    assert config.status_code == 200, config.json
    ticket = SandboxClient(env["id_urls"]["wechat"]).state()["jsapi_ticket"]
    import hashlib

    c = config.json["config"]
    expected = hashlib.sha1(f"jsapi_ticket={ticket}&noncestr={c['nonceStr']}&timestamp={c['timestamp']}&url={page}"
                            .encode()).hexdigest()
    assert c["signature"] == expected and c["jsApiList"] == ["chooseWXPay"]
    elsewhere = client.get("/api/v1/channels/wechat_oa/page-config", query_string={"url": "https://evil.example/x"})
    assert elsewhere.status_code == 400 and elsewhere.json["code"] == "page_url_not_allowed"


def test_in_yunshanfu_the_pension_menu_voids_a_base_and_pays_with_the_one_chosen_again(client, env):
    _, ch = channel_login(client, "unionpay_app", "olivia")
    me = identify_in(client, "unionpay_app", ch, ZHANG).json
    headers = {"X-Session-Token": me["token"]}
    menus = client.get("/api/v1/channels/unionpay_app/menus").json
    assert [m["title"] for m in menus] == ["养老自助缴费", "医疗自助缴费", "费补缴"]
    opened = client.get("/api/v1/channels/unionpay_app/menus/pension_void", headers=headers).json
    assert opened["menu"]["title"] == "基数作废" and [e["insurance"] for e in opened["enrollments"]] == ["pension"]
    eid, month = opened["enrollments"][0]["id"], wall_month()
    first = client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 398000, "effective_month": month},
                        headers=headers)
    again = client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 500000, "effective_month": month},
                        headers=headers)
    assert first.status_code == 201 and again.status_code == 409
    voided = client.post(f"/api/v1/enrollments/{eid}/choices/{first.json['id']}/void", headers=headers)
    assert voided.status_code == 200 and voided.json["voided"]
    chosen = client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 500000, "effective_month": month},
                         headers=headers)
    assert chosen.status_code == 201, chosen.json
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": [month]}, headers=headers).json
    posted = pay_in_channel(client, env, "unionpay_app", ch, me, [a["id"] for a in declared["assessments"]],
                            declared["total_fen"])
    assert [i["base_fen"] for i in posted["items"]] == [500000] and posted["method"] == "qr"
