"""The message endpoint as WeChat's server calls it: URL check, plain and encrypted messages,
refusals of anything not signed with the account's Token, and replies leading to the payer pages."""
from __future__ import annotations


from channels.sandbox.wechat_server import reply_fields
from channels.wechat_oa.tests.conftest import ENTRY
from tests.timeline import wall_timestamp


def test_the_url_check_echoes_echostr_when_signed_with_the_token(server):
    answer = server.verify_url("1234567890123")
    assert answer.status_code == 200 and answer.text == "1234567890123"


def test_the_url_check_with_another_token_is_refused(server):
    answer = server.verify_url("1234567890123", token="someone-elses-token")
    assert answer.status_code == 403 and "1234567890123" not in answer.text


def test_a_plain_message_about_fees_is_answered_with_a_link_to_the_payer_pages(server):
    sent = server.send(server.text("o-user-1", "我要交社保"))
    assert sent.status == 200
    reply = reply_fields(sent.reply_xml)
    assert reply["MsgType"] == "news" and reply["ToUserName"] == "o-user-1"
    assert reply["urls"] == ENTRY


def test_an_encrypted_message_gets_an_encrypted_reply_that_decrypts_to_the_records_link(server):
    sent = server.send(server.text("o-user-2", "缴费记录查询"), encrypted=True)
    assert sent.status == 200 and b"<Encrypt>" in sent.body and "缴费记录" not in sent.body.decode()
    assert reply_fields(sent.reply_xml)["urls"] == ENTRY + "?next=records"


def test_a_message_with_a_forged_signature_is_refused_and_not_answered(server):
    sent = server.send(server.text("o-user-3", "社保缴费"), token="forged")
    assert sent.status == 403 and sent.reply_xml is None


def test_an_encrypted_message_whose_body_signature_is_forged_is_refused(server):
    sent = server.send(server.text("o-user-4", "社保缴费"), encrypted=True, forge_msg_signature=True)
    assert sent.status == 403 and sent.reply_xml is None


def test_a_replayed_message_older_than_five_minutes_is_refused(server):
    sent = server.send(server.text("o-user-5", "社保缴费"), timestamp=str(wall_timestamp() - 600))
    assert sent.status == 403


def test_subscribing_is_welcomed_with_the_way_to_the_menu(server):
    sent = server.send(server.event("o-user-6", "subscribe"), encrypted=True)
    content = reply_fields(sent.reply_xml)["Content"]
    assert "欢迎关注" in content and "微服务 → 社保缴费" in content and ENTRY in content


def test_other_events_and_images_get_no_reply(server):
    assert server.send(server.event("o-user-7", "VIEW", key=ENTRY)).body == b"success"


def test_anything_else_typed_gets_the_help_text(server):
    reply = reply_fields(server.send(server.text("o-user-8", "你好")).reply_xml)
    assert reply["MsgType"] == "text" and "回复“缴费”" in reply["Content"]
