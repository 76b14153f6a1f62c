"""Finding a person by document number in the back office: masked, unmasked with a reason, both logged."""
from __future__ import annotations

from app.adapters.personal_data_log import query_access_log
from app.services import backoffice_staff
from tests.backoffice.support import create_staff, csrf, sign_in
from tests.e2e.test_api_core_flow import ZHANG


def test_a_person_is_found_masked_and_unmasked_only_with_a_reason(app, runner, clock, container):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    client = app.test_client()
    sign_in(client, "zhao.ji", create_staff(runner, "zhao.ji", "audit"), clock)
    page = client.post("/backoffice/people", data={"csrf_token": csrf(client), "id_type": "resident_id",
                                                   "id_number": ZHANG["id_number"]}).get_data(as_text=True)
    assert ZHANG["id_number"] not in page and ZHANG["name"] not in page
    assert ZHANG["id_number"][:4] + "**********" + ZHANG["id_number"][-4:] in page
    person_id = query_access_log(container.engine, accessor="staff:zhao.ji")[0]["person_id"]
    refused = client.post(f"/backoffice/people/{person_id}/unmask", data={"csrf_token": csrf(client), "reason": ""})
    assert refused.status_code == 400 and "理由" in refused.get_data(as_text=True)
    page = client.post(f"/backoffice/people/{person_id}/unmask",
                       data={"csrf_token": csrf(client), "reason": "缴费人来电核实身份"}).get_data(as_text=True)
    assert ZHANG["id_number"] in page and ZHANG["name"] in page
    reads = query_access_log(container.engine, accessor="staff:zhao.ji")
    assert reads[0]["purpose"] == "后台查看完整信息：缴费人来电核实身份" and reads[0]["accessor_kind"] == "staff"
    assert reads[1]["purpose"] == "后台按证件号码查询"
    actions = backoffice_staff.list_actions(container.backoffice, actor="zhao.ji")
    assert [(a.action, a.outcome, a.reason) for a in actions[:3]] == [
        ("person.unmask", "done", "缴费人来电核实身份"), ("backoffice_people.unmask", "failed", None),
        ("person.search", "done", None)]


def test_an_unknown_or_invalid_document_number_is_a_clear_answer(app, runner, clock):
    client = app.test_client()
    sign_in(client, "zhao.ji", create_staff(runner, "zhao.ji", "audit"), clock)
    invalid = client.post("/backoffice/people", data={"csrf_token": csrf(client), "id_type": "resident_id",
                                                      "id_number": "123"})
    assert invalid.status_code == 400
    unknown = client.post("/backoffice/people", data={"csrf_token": csrf(client), "id_type": "resident_id",
                                                      "id_number": "11010519491231002X"})
    assert unknown.status_code == 404 and "未找到" in unknown.get_data(as_text=True)
