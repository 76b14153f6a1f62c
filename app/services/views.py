"""What the services answer with: plain dicts, personal data masked, money in fen."""
from __future__ import annotations

from app.domain.documents import IdType, mask_id_number, mask_name
from app.domain.model import KIND_LABELS, PERIOD_STATUS_LABELS, Assessment, ContributionChoice, Enrollment, Person
from app.domain.money import yuan
from app.domain.policy import CATEGORY_LABELS, INSURANCE_LABELS


def person_view(person: Person) -> dict:
    return {"id_type": person.id_type, "id_type_label": IdType(person.id_type).label,
            "id_number": mask_id_number(person.id_number), "name": mask_name(person.name)}


def enrollment_view(enrollment: Enrollment) -> dict:
    return {"id": enrollment.id, "insured_number": enrollment.insured_number,
            "insurance": enrollment.insurance, "insurance_label": INSURANCE_LABELS[enrollment.insurance],
            "category": enrollment.category,
            "title": CATEGORY_LABELS[enrollment.category] + INSURANCE_LABELS[enrollment.insurance],
            "region": enrollment.region, "status": enrollment.status,
            "start_month": str(enrollment.start_month)}


def choice_view(choice: ContributionChoice) -> dict:
    return {"id": choice.id, "effective_month": str(choice.effective_month), "base_fen": choice.base_fen,
            "base_yuan": yuan(choice.base_fen) if choice.base_fen is not None else None,
            "grade": choice.grade_code, "batch_debit_allowed": choice.batch_debit_allowed,
            "voided": choice.is_voided}


def insurance_order(insurance: str) -> int:
    """Pension before medical before the rest, wherever several insurances are listed."""
    order = list(INSURANCE_LABELS)
    return order.index(insurance) if insurance in order else len(order)


def assessment_view(a: Assessment, category: str | None = None) -> dict:
    """One assessment; ``title`` keeps the category (城乡居民基本养老保险) when it is known."""
    return {"id": a.id, "title": CATEGORY_LABELS.get(category or "", "") + INSURANCE_LABELS.get(a.insurance, a.insurance), "notice_number": a.notice_number, "enrollment_id": a.enrollment_id,
            "insurance": a.insurance, "insurance_label": INSURANCE_LABELS.get(a.insurance, a.insurance),
            "region": a.region,
            "period": a.period_label, "period_start": a.period_start.isoformat(),
            "period_end": a.period_end.isoformat(), "kind": a.kind, "kind_label": KIND_LABELS[a.kind],
            "base_fen": a.base_fen, "rate": a.rate, "grade": a.grade_code, "amount_fen": a.amount_fen,
            "amount_yuan": yuan(a.amount_fen), "subsidy_fen": a.subsidy_fen, "state": a.state,
            "status_label": PERIOD_STATUS_LABELS.get(a.state, a.state), "reason": a.reason}
