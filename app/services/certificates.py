"""Payment certificates (完税（费）证明): issue, re-issue (补开), find, and public verification (查验).

Issued for posted payments by fee-period range, for oneself or for another person (代他人开具,
with that person's name and document); only once the money is in the treasury (入库).
Verification is public: it answers "genuine" with masked details, or one "not found" for
every other case, so it tells nothing about numbers that are not on a document in hand.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping

from app.domain.certificates import (Certificate, chinese_date, date_range, looks_like_certificate_number,
                                     new_certificate, period_range, plan_certificates, reissue, shanghai_date,
                                     start_of_day, tax_authority_name)
from app.domain.documents import IdType, mask_id_number, normalize_document
from app.domain.errors import InvalidInput, NotFound
from app.domain.money import yuan
from app.domain.policy import PolicyBook
from app.services.identification import NOT_MATCHED, normalize_name
from app.services.lookback_views import PAYMENT_STATE_LABELS, certificate_view, masked, payment_title
from app.services.ports import Clock, UnitOfWork

CERTIFICATE_NOT_FOUND = ("certificate_not_found", "未找到该完税证明")
VERIFY_NOT_FOUND = ("verification_not_found", "未查询到相关缴费信息，请核对电子税票号码或证明号码后重试")
_TICKET = re.compile(r"[0-9A-Za-z]{6,32}")


@dataclass(frozen=True)
class CertificateSettings:
    """What certificates need from settings."""

    treasury_delay_working_days: int  # posted → in the treasury (入库), in working days
    verify_url: str  # the public verification page, e.g. https://example.gov.cn/verify


def issue_certificate(person_id: int, period_start: str, period_end: str, uow: UnitOfWork, clock: Clock,
                      policies: PolicyBook, settings: CertificateSettings, other_person: dict | None = None) -> dict:
    """开具: one certificate per tax authority for the posted, not yet certified payments of the periods."""
    period = period_range(period_start, period_end)
    now = clock.now()
    region_names = _region_names(policies)
    with uow:
        subject = _subject(uow, person_id, other_person, clock)
        payments = uow.lookback.certifiable_payments(subject, *period)
        plan = plan_certificates(payments, clock.today(), settings.treasury_delay_working_days)
        issued = []
        for region, ready in sorted(plan.ready_by_region.items()):
            cert = new_certificate(subject, person_id, region, region_names.get(region, ""), period, ready, now,
                                   _verification_code())
            issued.append(uow.lookback.add_certificate(cert))
        uow.audit.record("certificate.issued", f"person:{subject}",
                         {"certificates": [c.certificate_no for c in issued], "requested_by": person_id,
                          "payments": [i.payment_id for c in issued for i in c.items]}, now)
        uow.commit()
        views = [_view(uow, c, settings) for c in issued]
    pending = [{"e_ticket_number": p.e_ticket_number, "period": p.assessment.period_label, "amount_fen": p.amount_fen,
                "available_on": day.isoformat(), "message": f"该笔费款预计{chinese_date(day)}入库后可开具完税证明"}
               for p, day in plan.pending]
    return {"certificates": views, "pending": pending}


def reissue_certificate(person_id: int, certificate_no: str, uow: UnitOfWork, clock: Clock,
                        settings: CertificateSettings) -> dict:
    """补开: a new certificate for the same payments, marked as re-issued and linked to the original."""
    now = clock.now()
    with uow:
        cert = _visible(uow, person_id, certificate_no)
        original = uow.lookback.get_certificate_by_id(cert.reissue_of) if cert.is_reissue else cert
        payments = uow.lookback.payments_by_ids([i.payment_id for i in original.items])
        again = uow.lookback.add_certificate(reissue(original, payments, person_id, now, _verification_code()))
        uow.audit.record("certificate.reissued", f"certificate:{original.certificate_no}",
                         {"reissue": again.certificate_no, "requested_by": person_id}, now)
        uow.commit()
        return _view(uow, again, settings)


def find_certificates(person_id: int, uow: UnitOfWork, clock: Clock, settings: CertificateSettings,
                      issued_from: date | None = None, issued_to: date | None = None,
                      e_ticket_number: str | None = None) -> list[dict]:
    """Certificates issued in a date range (a year by default), optionally those carrying an e-ticket number."""
    start, end = date_range(issued_from, issued_to, clock.today(), field="issued_from")
    with uow:
        found = uow.lookback.find_certificates(person_id, start_of_day(start), start_of_day(end + timedelta(days=1)),
                                               (e_ticket_number or "").strip() or None)
        return [_view(uow, c, settings) for c in found]


def show_certificate(person_id: int, certificate_no: str, uow: UnitOfWork, settings: CertificateSettings) -> dict:
    """One certificate the person holds or asked for."""
    with uow:
        return _view(uow, _visible(uow, person_id, certificate_no), settings)


def certificate_document(person_id: int, certificate_no: str, uow: UnitOfWork,
                         settings: CertificateSettings) -> dict:
    """What the certificate PDF shows: the payer's own name, the document number masked."""
    with uow:
        cert = _visible(uow, person_id, certificate_no)
        view = _view(uow, cert, settings)
        payer = uow.persons.get(cert.person_id)
        original = uow.lookback.get_certificate_by_id(cert.reissue_of) if cert.is_reissue else None
    return {**view, "payer_name": payer.name, "payer_id_type_label": IdType(payer.id_type).label,
            "payer_id_number": mask_id_number(payer.id_number),
            "issued_on_label": chinese_date(shanghai_date(cert.issued_at)),
            "original_issued_on_label": chinese_date(shanghai_date(original.issued_at)) if original else None}


def verify_ticket(e_ticket_number: str, uow: UnitOfWork, policies: PolicyBook, id_number: str | None = None) -> dict:
    """查验 by e-ticket number (and optionally the document number): genuine with masked details, or not found."""
    number = (e_ticket_number or "").strip()
    if not _TICKET.fullmatch(number):
        raise InvalidInput("e_ticket_format", "电子税票号码应为6至32位数字或字母", field="e_ticket_number")
    with uow:
        payment = uow.lookback.payment_by_ticket(number)
        person = uow.persons.get(payment.person_id) if payment and payment.person_id else None
    if payment is None or person is None or (id_number and not _same_document(person.id_number, id_number)):
        raise NotFound(*VERIFY_NOT_FOUND)
    a = payment.assessment
    return {"genuine": True, "kind": "e_ticket", "e_ticket_number": payment.e_ticket_number,
            "insured": masked(person), "tax_authority": tax_authority_name(_region_names(policies).get(a.region, "")),
            "title": payment_title(payment), "period": a.period_label,
            "amount_fen": payment.amount_fen, "amount_yuan": yuan(payment.amount_fen),
            "posted_on": shanghai_date(payment.posted_at).isoformat(),
            "state": a.state, "state_label": PAYMENT_STATE_LABELS.get(a.state, a.state)}


def verify_certificate(certificate_no: str, code: str, uow: UnitOfWork, settings: CertificateSettings) -> dict:
    """查验 a certificate by its number and verification code (查验码), as its QR code links to."""
    number, code = (certificate_no or "").strip(), (code or "").strip().upper()
    if not looks_like_certificate_number(number) or not code:
        raise NotFound(*VERIFY_NOT_FOUND)
    with uow:
        cert = uow.lookback.get_certificate(number)
        if cert is None or not hmac.compare_digest(cert.verification_code.encode(), code.encode()):
            raise NotFound(*VERIFY_NOT_FOUND)
        view = _view(uow, cert, settings)
    return {"genuine": True, "kind": "certificate", **{k: view[k] for k in (
        "certificate_no", "kind_label", "reissue_of", "person", "tax_authority", "period_start", "period_end",
        "total_fen", "total_yuan", "total_capitals", "issued_on")},
        "payments": [{k: i[k] for k in ("e_ticket_number", "title", "period", "amount_fen", "amount_yuan", "refunded")}
                  for i in view["items"]]}


def _view(uow: UnitOfWork, cert: Certificate, settings: CertificateSettings) -> dict:
    payments = {p.payment_id: p for p in uow.lookback.payments_by_ids([i.payment_id for i in cert.items])}
    persons = {pid: uow.persons.get(pid) for pid in {cert.person_id, cert.requested_by_person_id}}
    original = uow.lookback.get_certificate_by_id(cert.reissue_of) if cert.is_reissue else None
    return certificate_view(cert, payments, persons, original, settings.verify_url,
                            settings.treasury_delay_working_days)


def _visible(uow: UnitOfWork, person_id: int, certificate_no: str) -> Certificate:
    cert = uow.lookback.get_certificate((certificate_no or "").strip())
    if cert is None or person_id not in (cert.person_id, cert.requested_by_person_id):
        raise NotFound(*CERTIFICATE_NOT_FOUND, field="certificate_no")
    return cert


def _subject(uow: UnitOfWork, person_id: int, other: dict | None, clock: Clock) -> int:
    """Whose payments: oneself, or another person named by name and document (代他人开具)."""
    if not other:
        return person_id
    number = normalize_document(other["id_type"], other["id_number"], today=clock.today())
    person = uow.persons.find_by_document(other["id_type"], number)
    if person is None or not hmac.compare_digest(normalize_name(person.name).encode(),
                                                 normalize_name(other["name"]).encode()):
        raise NotFound(*NOT_MATCHED, field="other_person")
    return person.id


def _same_document(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.strip().upper().encode(), "".join(given.split()).upper().encode())


def _region_names(policies: PolicyBook) -> dict[str, str]:
    return {p.region: p.region_name for p in policies.all()}


def _verification_code() -> str:
    """查验码: 10 random digits, printed on the certificate and carried by its QR link."""
    return f"{secrets.randbelow(10 ** 10):010d}"


def verify_asked(asked: Mapping[str, str | None], uow: UnitOfWork, policies: PolicyBook,
                 settings: CertificateSettings) -> dict:
    """Public verification of what was asked: a certificate (number + code) or an e-ticket number."""
    if asked.get("certificate_no"):
        return verify_certificate(asked["certificate_no"], asked.get("code") or "", uow, settings)
    return verify_ticket(asked.get("e_ticket_number") or "", uow, policies, id_number=asked.get("id_number") or None)
