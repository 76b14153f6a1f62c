"""The official account's custom menu (微服务 → 社保缴费) and the replies that lead to the payer pages.

Every link goes to our entry URL (``/channels/wechat_oa/start``), which sends WeChat's browser
through silent OAuth and on to the payer pages; ``?next=records`` lands on 缴费记录.
"""
from __future__ import annotations

from wechatpy.replies import ArticlesReply, TextReply

HELP_KEY = "SBF_HELP"
PAY_WORDS = ("社保", "缴费", "交费", "养老", "医保", "医疗", "补缴", "档次", "基数")
RECORD_WORDS = ("记录", "查询", "明细", "证明")


def records_url(entry_url: str) -> str:
    return entry_url + ("&" if "?" in entry_url else "?") + "next=records"


def menu_definition(entry_url: str) -> dict:
    """The menu as WeChat's menu/create takes it: 微服务 → 社保缴费, 缴费记录, 缴费帮助."""
    return {"button": [{"name": "微服务", "sub_button": [
        {"type": "view", "name": "社保缴费", "url": entry_url},
        {"type": "view", "name": "缴费记录", "url": records_url(entry_url)},
        {"type": "click", "name": "缴费帮助", "key": HELP_KEY},
    ]}]}


def help_text(entry_url: str) -> str:
    return (f"您好！缴纳社保费请点击菜单“微服务 → 社保缴费”，或<a href=\"{entry_url}\">点此进入社保缴费</a>。"
            "\n回复“缴费”进入缴费，回复“记录”查看缴费记录。")


def reply_to(message, entry_url: str):
    """The reply to a parsed message (wechatpy), or None to answer ``success`` (no reply)."""
    kind = getattr(message, "type", "")
    if kind == "event":
        event = getattr(message, "event", "")
        if event in ("subscribe", "subscribe_scan"):
            return TextReply(message=message, content="欢迎关注！" + help_text(entry_url))
        if event == "click" and getattr(message, "key", "") == HELP_KEY:
            return TextReply(message=message, content=help_text(entry_url))
        return None
    if kind != "text":
        return None
    content = getattr(message, "content", "") or ""
    if any(word in content for word in RECORD_WORDS):
        return ArticlesReply(message=message, articles=[{
            "title": "缴费记录", "description": "查看本人及代他人缴纳的社保费记录",
            "image": "", "url": records_url(entry_url)}])
    if any(word in content for word in PAY_WORDS):
        return ArticlesReply(message=message, articles=[{
            "title": "社保费缴费", "description": "灵活就业人员、城乡居民社保费在线申报缴纳，支持代他人缴费",
            "image": "", "url": entry_url}])
    return TextReply(message=message, content=help_text(entry_url))
