"""A channel's menu (its adapter's ``menu``) as links to the shared pages.

Each menu item names one shared module, narrowed by its filters (insurance, kind); an item
with children opens a sub-menu page (云闪付's three menus). Without an adapter the pages
show seed 002's modules and looking back.
"""
from __future__ import annotations

from flask import url_for

from channels.base import (MODULE_CERTIFICATES, MODULE_CHOOSE, MODULE_DECLARATIONS, MODULE_PAY, MODULE_PROXY,
                           MODULE_RECORD, MODULE_RECORDS, MODULE_REFUNDS, MODULE_SPECIAL, MODULE_STATEMENT, MODULE_VOID_CHOICE,
                           MenuItem, find_menu_item, lookback_menu, standard_menu)

HINTS = {MODULE_PAY: "申报并缴纳社保费", MODULE_CHOOSE: "确认或作废缴费基数、档次", MODULE_VOID_CHOICE: "作废后可重新选择",
         MODULE_SPECIAL: "人社、医保部门核定的补缴", MODULE_RECORDS: "查看缴费结果和明细",
         MODULE_PROXY: "为他人（缴费人）缴纳社保费", MODULE_DECLARATIONS: "查询申报信息，作废未缴费的申报",
         MODULE_CERTIFICATES: "开具、代他人开具、补开、下载", MODULE_STATEMENT: "按所属期下载缴费清单",
         MODULE_RECORD: "个人缴费情况，可保存为图片", MODULE_REFUNDS: "退费申请的办理进度"}


def menu_items(adapter, region: str | None) -> tuple[MenuItem, ...]:
    if adapter is None:
        return standard_menu() + lookback_menu()
    return adapter.menu(region)


def find_item(adapter, region: str | None, key: str) -> MenuItem | None:
    return find_menu_item(menu_items(adapter, region), key)


def link(channel: str, item: MenuItem) -> str:
    """Where a menu item leads."""
    if item.children:
        return url_for("h5.submenu", channel=channel, key=item.key)
    f = dict(item.filters)
    module = item.module
    if module in (MODULE_PAY, MODULE_CHOOSE, MODULE_VOID_CHOICE):
        return url_for("h5.enrollment_list", channel=channel,
                       module="choose" if module in (MODULE_CHOOSE, MODULE_VOID_CHOICE) else "pay", **f)
    if module == MODULE_SPECIAL:
        return url_for("h5.unpaid", channel=channel, kind="special")
    if module == MODULE_RECORDS:
        return url_for("h5.records", channel=channel, **f)
    if module == MODULE_PROXY:
        return url_for("h5.identify", channel=channel, proxy=1)
    if module == MODULE_DECLARATIONS:
        return url_for("lookback_pages.declarations", channel=channel)
    if module == MODULE_CERTIFICATES:
        return url_for("lookback_pages.certificates", channel=channel)
    if module == MODULE_STATEMENT:
        return url_for("lookback_pages.statement", channel=channel)
    if module == MODULE_RECORD:
        return url_for("lookback_pages.contribution_record", channel=channel)
    if module == MODULE_REFUNDS:
        return url_for("lookback_pages.refund_applications", channel=channel)
    return url_for("h5.menu", channel=channel)


def entries(channel: str, items: tuple[MenuItem, ...]) -> list[dict]:
    return [{"key": i.key, "title": i.title, "hint": HINTS.get(i.module, ""), "href": link(channel, i)} for i in items]
