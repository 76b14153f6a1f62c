"""People and payments in the back office: find a person by document number (exact, through the
blind index, as identification does), shown masked; unmasked only with a reason.

Every decryption is a read in the personal-data access log (``personal_data_access``): the
search as ``staff:<username>`` with the purpose "后台查询", the unmasking with the reason given,
so an auditor can see who looked at whom and why.
"""
from __future__ import annotations

from app.domain.accounts import mask_phone
from app.domain.documents import IdType, mask_id_number, mask_name, normalize_document
from app.domain.errors import InvalidInput, NotFound
from app.domain.orders import ORDER_STATE_LABELS
from app.domain.policy import INSURANCE_LABELS
from app.domain.staff import check_reason
from app.domain.zone import shanghai_date
from app.services.backoffice_ports import BackofficeDeps
from app.services.backoffice_staff import Where
from app.services.ports import UnitOfWork

SEARCH_PURPOSE = "后台按证件号码查询"


def find_person(id_type: str, id_number: str, staff: str, deps: BackofficeDeps, uow: UnitOfWork,
                where: Where = Where()) -> dict:
    """The person with this document (exact), masked, with enrollments and orders."""
    try:
        kind = IdType(id_type)
    except ValueError:
        raise InvalidInput("id_type_invalid", "证件类型不存在", field="id_type") from None
    number = normalize_document(kind, id_number, today=shanghai_date(deps.clock.now()))
    with deps.reading_as(f"staff:{staff}", SEARCH_PURPOSE, where), uow:
        person = uow.persons.find_by_document(kind.value, number)
        if person is None:
            raise NotFound("person_not_found", "未找到该证件号码的参保人")
        return _view(person, uow, masked=True)


def unmask_person(person_id: int, reason: str, staff: str, deps: BackofficeDeps, uow: UnitOfWork,
                  where: Where = Where()) -> dict:
    """The person in full; the reason goes to the personal-data access log."""
    reason = check_reason(reason)
    with deps.reading_as(f"staff:{staff}", f"后台查看完整信息：{reason}", where), uow:
        person = uow.persons.get(person_id)
        if person is None:
            raise NotFound("person_not_found", "未找到该参保人")
        return _view(person, uow, masked=False)


def _view(person, uow: UnitOfWork, masked: bool) -> dict:
    enrollments = [{"insurance": INSURANCE_LABELS.get(e.insurance, e.insurance), "region": e.region,
                    "category": e.category, "insured_number": e.insured_number, "status": e.status}
                   for e in uow.enrollments.list_for_person(person.id)]
    orders = [{"order_no": o.order_no, "channel": o.channel, "provider": o.provider, "amount_fen": o.amount_fen,
               "state": ORDER_STATE_LABELS.get(o.state, o.state), "created_at": o.created_at, "paid_at": o.paid_at}
              for o in uow.orders.list_for_persons([person.id], limit=100)]
    return {"id": person.id, "id_type": IdType(person.id_type).label, "masked": masked,
            "name": mask_name(person.name) if masked else person.name,
            "id_number": mask_id_number(person.id_number) if masked else person.id_number,
            "phone": mask_phone(person.phone) if masked else (person.phone or ""),
            "enrollments": enrollments, "orders": orders}
