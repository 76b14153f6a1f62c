"""What looking back answers with: posted payments, orders, declarations and certificates as plain dicts.

Personal data masked, money in fen with a yuan string beside it for screens.
"""
from __future__ import annotations

from app.domain.capitals import fen_to_chinese_capitals
from app.domain.certificates import Certificate, PostedPayment, shanghai_date, treasury_date
from app.domain.late_fees import LATE_FEE_LABEL
from app.domain.model import (DECLARED_UNPAID, KIND_LABELS, PAID, PARTLY_PAID, PAYING, REFUNDED, STATE_LABELS, VOIDED,
                              Assessment, Enrollment, Person)
from app.domain.money import yuan
from app.domain.orders import ORDER_STATE_LABELS, REFUND_STATE_LABELS, Order, Refund
from app.domain.policy import CATEGORY_LABELS, INSURANCE_LABELS
from app.services.views import assessment_view, person_view

CHANNEL_LABELS = {"wechat_oa": "微信公众号", "wechat_city": "微信城市服务", "alipay_citizen": "支付宝市民中心",
                  "tax_app": "税税通（移动办税）", "unionpay_app": "云闪付", "etax_web": "电子税务局",
                  "api": "开放接口", "batch": "批量扣款"}
PROVIDER_LABELS = {"wechatpay": "微信支付", "alipay": "支付宝", "unionpay": "银联云闪付", "counter": "银行柜台缴款",
                   "agreement": "协议缴纳", "ccb": "建行支付", "fake": "模拟支付"}
DECLARATION_STATE_LABELS = {s: STATE_LABELS[s] for s in (DECLARED_UNPAID, PAYING, PAID, VOIDED, REFUNDED, PARTLY_PAID)}
PAYMENT_STATE_LABELS = {s: STATE_LABELS[s] for s in (PAID, REFUNDED)}


def insurance_title(insurance: str, category: str | None) -> str:
    """灵活就业人员基本养老保险, or the insurance alone when the category is unknown."""
    return CATEGORY_LABELS.get(category or "", "") + INSURANCE_LABELS.get(insurance, insurance)


def payment_title(p: PostedPayment) -> str:
    """灵活就业人员基本养老保险, or 基本养老保险滞纳金 for the late fee posted beside it (short enough for one line)."""
    if p.is_late_fee:
        return INSURANCE_LABELS.get(p.assessment.insurance, p.assessment.insurance) + LATE_FEE_LABEL
    return insurance_title(p.assessment.insurance, p.category)


def payment_kind_label(p: PostedPayment) -> str:
    return LATE_FEE_LABEL if p.is_late_fee else KIND_LABELS.get(p.assessment.kind, p.assessment.kind)


def masked(person: Person | None) -> dict | None:
    return person_view(person) if person is not None else None


def posted_payment_view(p: PostedPayment, persons: dict[int, Person], delay_working_days: int | None = None) -> dict:
    a = p.assessment
    state = PAID if not p.is_refunded else REFUNDED
    view = {"e_ticket_number": p.e_ticket_number, "order_no": p.order_no, "notice_number": a.notice_number,
            "insurance": a.insurance, "insurance_label": INSURANCE_LABELS.get(a.insurance, a.insurance),
            "title": payment_title(p), "period": a.period_label,
            "period_start": a.period_start.isoformat(), "period_end": a.period_end.isoformat(),
            "kind": a.kind, "kind_label": payment_kind_label(p), "amount_fen": p.amount_fen,
            "amount_yuan": yuan(p.amount_fen), "posted_at": p.posted_at.isoformat(),
            "posted_on": shanghai_date(p.posted_at).isoformat(), "channel": p.channel,
            "channel_label": CHANNEL_LABELS.get(p.channel, p.channel), "provider": p.provider, "method": p.method,
            "method_label": PROVIDER_LABELS.get(p.provider, p.provider), "state": state,
            "state_label": PAYMENT_STATE_LABELS.get(a.state, a.state), "insured": masked(persons.get(a.person_id)),
            "payer": masked(persons.get(p.payer_person_id)) if p.payer_person_id else None,
            "proxy": bool(p.payer_person_id and p.payer_person_id != a.person_id)}
    if delay_working_days is not None:
        view["treasury_on"] = treasury_date(p.posted_at, delay_working_days).isoformat()
    return view


def refund_view(r: Refund) -> dict:
    return {"refund_no": r.refund_no, "amount_fen": r.amount_fen, "amount_yuan": yuan(r.amount_fen), "state": r.state,
            "state_label": REFUND_STATE_LABELS.get(r.state, r.state), "reason": r.reason,
            "created_at": r.created_at.isoformat(), "finished_at": r.finished_at.isoformat() if r.finished_at else None}


def history_order_view(order: Order, assessments: dict[int, Assessment], tickets: dict[int, str],
                       refunds: list[Refund], persons: dict[int, Person]) -> dict:
    items = []
    for item in order.items:
        a = assessments[item.assessment_id]
        items.append({"insured": masked(persons.get(item.person_id)), "insurance": a.insurance,
                      "insurance_label": INSURANCE_LABELS.get(a.insurance, a.insurance), "period": a.period_label,
                      "kind_label": KIND_LABELS.get(a.kind, a.kind), "amount_fen": item.amount_fen,
                      "amount_yuan": yuan(item.amount_fen), "e_ticket_number": tickets.get(item.assessment_id),
                      "late_fee_fen": item.late_fee_fen,
                      "state": a.state, "state_label": DECLARATION_STATE_LABELS.get(a.state, a.state)})
    insured = {item.person_id for item in order.items}
    return {"order_no": order.order_no, "state": order.state, "state_label": ORDER_STATE_LABELS.get(order.state),
            "amount_fen": order.amount_fen, "amount_yuan": yuan(order.amount_fen), "channel": order.channel,
            "channel_label": CHANNEL_LABELS.get(order.channel, order.channel), "provider": order.provider,
            "method": order.method, "method_label": PROVIDER_LABELS.get(order.provider, order.provider),
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "posted_at": order.posted_at.isoformat() if order.posted_at else None,
            "payer": masked(persons.get(order.payer_person_id)) if order.payer_person_id else None,
            "proxy": bool(order.payer_person_id and insured != {order.payer_person_id}),
            "items": items, "refunds": [refund_view(r) for r in refunds]}


def declaration_view(notice_number: str, assessments: list[Assessment], enrollment: Enrollment | None) -> dict:
    """One declaration (one notice number) with its assessments and whether it can still be voided."""
    items = []
    for a in sorted(assessments, key=lambda a: (a.period_start, a.id or 0)):
        view = assessment_view(a)
        view.update(state_label=DECLARATION_STATE_LABELS.get(a.state, a.state),
                    declared_at=a.declared_at.isoformat() if a.declared_at else None,
                    voidable=a.state == DECLARED_UNPAID and a.kind != "special")
        items.append(view)
    state = declaration_state({a.state for a in assessments})
    live = [a for a in assessments if a.state != VOIDED]
    first = min(assessments, key=lambda a: a.declared_at or a.period_start) if assessments else None
    return {"notice_number": notice_number, "enrollment_id": enrollment.id if enrollment else None,
            "insured_number": enrollment.insured_number if enrollment else None,
            "title": insurance_title(enrollment.insurance, enrollment.category) if enrollment else None,
            "declared_at": first.declared_at.isoformat() if first and first.declared_at else None,
            "kind_labels": sorted({KIND_LABELS.get(a.kind, a.kind) for a in assessments}),
            "periods": [i["period"] for i in items], "total_fen": sum(a.amount_fen for a in live),
            "total_yuan": yuan(sum(a.amount_fen for a in live)), "state": state,
            "state_label": DECLARATION_STATE_LABELS[state], "voidable": any(i["voidable"] for i in items),
            "assessments": items}


def declaration_state(states: set[str]) -> str:
    """A declaration's state from its assessments': paying wins, then what is still unpaid."""
    live = states - {VOIDED}
    if not live:
        return VOIDED
    if PAYING in live:
        return PAYING
    if DECLARED_UNPAID in live:
        return "partly_paid" if live & {PAID, REFUNDED} else DECLARED_UNPAID
    return PAID if PAID in live else REFUNDED


def certificate_view(cert: Certificate, payments: dict[int, PostedPayment], persons: dict[int, Person],
                     original: Certificate | None, verify_url: str, delay_working_days: int) -> dict:
    items = []
    for item in cert.items:
        p = payments[item.payment_id]
        items.append({"e_ticket_number": p.e_ticket_number, "insurance": p.assessment.insurance,
                      "title": payment_title(p), "period": p.assessment.period_label,
                      "kind_label": payment_kind_label(p),
                      "amount_fen": item.amount_fen,
                      "amount_yuan": yuan(item.amount_fen), "posted_on": shanghai_date(p.posted_at).isoformat(),
                      "treasury_on": treasury_date(p.posted_at, delay_working_days).isoformat(),
                      "refunded": p.is_refunded})
    return {"certificate_no": cert.certificate_no, "verification_code": cert.verification_code,
            "kind": "reissue" if cert.is_reissue else "original", "kind_label": "补开" if cert.is_reissue else "开具",
            "reissue_of": original.certificate_no if original else None,
            "person": masked(persons.get(cert.person_id)),
            "requested_by": masked(persons.get(cert.requested_by_person_id)),
            "for_another_person": cert.requested_by_person_id != cert.person_id,
            "tax_authority": cert.tax_authority, "period_start": cert.period_start.isoformat()[:7],
            "period_end": cert.period_end.isoformat()[:7], "items": items, "total_fen": cert.total_fen,
            "total_yuan": yuan(cert.total_fen), "total_capitals": fen_to_chinese_capitals(cert.total_fen),
            "issued_at": cert.issued_at.isoformat(), "issued_on": shanghai_date(cert.issued_at).isoformat(),
            "verify_url": verification_link(verify_url, cert)}


def verification_link(verify_url: str, cert: Certificate) -> str:
    """The public verification page for a certificate, as its QR code opens it."""
    return f"{verify_url}?certificate_no={cert.certificate_no}&code={cert.verification_code}"
