"""The tax app's own menus (seeds 002 and 004) as a page: 办税 → 个人办税 → 灵活就业、居民社保费缴纳,
查询 → 公众查询 → 社保费完税证明; 社保 → 申报及缴纳 / 查询业务. Each leaf opens the shared H5 step it
stands for (the payment steps are the pages every channel shares); certificates are issued on the
account's certificate page, and verified on the public page."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, session, url_for

from app.web.looks import look_of

bp = Blueprint("tax_app", __name__, url_prefix="/tax-app")
CHANNEL = "tax_app"


def _leaf_url(key: str) -> str:
    h5 = {"pay": ("h5.enrollment_list", {"module": "pay"}), "declare_and_pay": ("h5.enrollment_list", {"module": "pay"}),
          "choose": ("h5.enrollment_list", {"module": "choose"}), "base": ("h5.enrollment_list", {"module": "choose"}),
          "enrollments": ("h5.enrollment_list", {"module": "choose"}), "special": ("h5.unpaid", {"kind": "special"}),
          "declared": ("h5.unpaid", {}), "void": ("h5.unpaid", {}), "records": ("h5.records", {}),
          "paid": ("h5.records", {})}
    if key in h5:
        endpoint, args = h5[key]
        return url_for(endpoint, channel=CHANNEL, **args)
    if key in ("certificates", "cert_issue"):
        return url_for("etax.certificate_list")
    if key == "cert_verify":
        return url_for("verify.page")
    if key == "refund":  # 社保费正常缴费退费申请 (seed 004), behind the account sign-in
        return url_for("refunds.start", channel=CHANNEL)
    return ""


def _tree(items, signed_in: bool) -> list[dict]:
    def url(key: str) -> str:  # before signing in, every step goes through the channel entry (the sign-in)
        return _leaf_url(key) if signed_in or key == "cert_verify" else url_for("h5.entry", channel=CHANNEL)
    return [{"key": i.key, "title": i.title, "url": "" if i.children else url(i.key),
             "children": _tree(i.children, signed_in)} for i in items]


@bp.get("/")
def home():
    """The tax app's home: its menus; a step needing the payer signs in through the channel entry first."""
    channel = current_app.extensions["sbf"].channels.channels[CHANNEL]
    signed_in = session.get("channel") == CHANNEL and bool(session.get("channel_user"))
    return render_template("tax_app/home.html", menu=_tree(channel.menu(), signed_in), look=look_of(CHANNEL),
                           start=url_for("h5.entry", channel=CHANNEL), agreement_links=_agreement_links())


def _agreement_links() -> list[dict]:
    """社保 → 社保费个人缴费协议签订, 委托扣款缴费协议查询, 存款账户账号备案 (seed 004), behind the account sign-in."""
    ep = "tax_app_agreements"
    return [{"key": "agreement_sign", "title": "社保费个人缴费协议签订", "url": url_for(f"{ep}.new_agreement")},
            {"key": "agreement_query", "title": "委托扣款缴费协议查询", "url": url_for(f"{ep}.index")},
            {"key": "account_filing", "title": "存款账户账号备案", "url": url_for(f"{ep}.file_account")},
            {"key": "payment_password", "title": "设置支付密码", "url": url_for(f"{ep}.password")},
            {"key": "agreement_pay", "title": "协议缴纳", "url": url_for(f"{ep}.pay")}]
