"""The payer's first half through the HTTP API, on PostgreSQL and Redis."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t

DEMO = json.loads((Path(__file__).resolve().parents[2] / "config" / "demo_people.json").read_text("utf-8"))
ZHANG = next(r for r in DEMO["enrollments"] if r["name"] == "张伟" and r["insurance"] == "pension")
ZHAO = next(r for r in DEMO["enrollments"] if r["name"] == "赵丽" and r["insurance"] == "pension")


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    return result


def identify(client, row, name=None):
    answer = client.post("/api/v1/identifications", json={
        "name": name or row["name"], "id_type": row["id_type"], "id_number": row["id_number"]})
    return answer


def session(client, row):
    answer = identify(client, row)
    assert answer.status_code == 201, answer.json
    return answer.json, {"X-Session-Token": answer.json["token"]}


def enrollment_id(body, insurance):
    return next(e["id"] for e in body["enrollments"] if e["insurance"] == insurance)


def count(container, table):
    with container.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_demo_person_is_identified_and_shown_masked(client, demo):
    body, _ = session(client, ZHANG)
    assert body["person"]["name"] == "张*"
    assert body["person"]["id_number"] == ZHANG["id_number"][:4] + "*" * 10 + ZHANG["id_number"][-4:]
    assert ZHANG["id_number"] not in json.dumps(body, ensure_ascii=False)
    assert {e["title"] for e in body["enrollments"]} == {"灵活就业人员基本养老保险", "灵活就业人员基本医疗保险"}


def test_wrong_name_and_unknown_number_answer_identically(client, demo):
    wrong_name = identify(client, ZHANG, name="张三")
    unknown = client.post("/api/v1/identifications", json={
        "name": "张伟", "id_type": "resident_id", "id_number": "11010519491231002X"})
    assert wrong_name.status_code == unknown.status_code == 404
    assert wrong_name.json == unknown.json
    assert wrong_name.json["code"] == "identity_not_matched"


def test_wrong_check_digit_is_refused_in_chinese_and_nothing_is_written(client, demo, container):
    before = count(container, t.audit_event), count(container, t.person)
    answer = client.post("/api/v1/identifications", json={
        "name": "张伟", "id_type": "resident_id", "id_number": ZHANG["id_number"][:-1] + "9"})
    assert answer.status_code == 400
    assert answer.json["code"] == "id_check_digit_invalid"
    assert "校验码" in answer.json["message"]
    assert answer.json["errors"] == {"id_number": [answer.json["message"]]}
    assert (count(container, t.audit_event), count(container, t.person)) == before


@pytest.mark.parametrize("base_fen, accepted", [(397900, False), (398000, True), (1989900, True), (1990000, False)])
def test_qingdao_flexible_pension_base_range_is_enforced(client, demo, base_fen, accepted):
    body, headers = session(client, ZHANG)
    eid = enrollment_id(body, "pension")
    answer = client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": base_fen}, headers=headers)
    if accepted:
        assert answer.status_code == 201, answer.json
        assert answer.json["base_fen"] == base_fen
    else:
        assert answer.status_code == 400
        assert answer.json["code"] == "base_out_of_range"
        assert answer.json["message"] == "缴费基数应在3980.00元至19899.00元之间"


def test_three_declared_months_cost_base_times_rate_and_read_unpaid(client, demo):
    body, headers = session(client, ZHANG)
    eid = enrollment_id(body, "pension")
    chosen = client.post(f"/api/v1/enrollments/{eid}/choices",
                         json={"base_fen": 512345, "effective_month": "2026-08"}, headers=headers)
    assert chosen.status_code == 201, chosen.json
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations",
                           json={"periods": ["2026-09", "2026-10", "2026-11"]}, headers=headers)
    assert declared.status_code == 201, declared.json
    items = declared.json["assessments"]
    # 5123.45 元 × 20% = 1024.69 元 exactly; half-up rounding is exercised in the unit tests
    assert [a["amount_fen"] for a in items] == [102469] * 3
    assert [a["kind"] for a in items] == ["back", "back", "regular"]
    assert declared.json["total_fen"] == 3 * 102469
    status = client.get(f"/api/v1/payment-status?enrollment_id={eid}&start=2026-08&end=2026-11", headers=headers)
    assert status.status_code == 200
    labels = {row["period"]: row["status_label"] for row in status.json["periods"]}
    assert labels == {"2026-08": "未缴费", "2026-09": "未支付", "2026-10": "未支付", "2026-11": "未支付"}
    by_notice = client.get(f"/api/v1/payment-status?notice_number={declared.json['notice_number']}", headers=headers)
    assert [r["period"] for r in by_notice.json["declared_unpaid"]] == ["2026-09", "2026-10", "2026-11"]


def test_declaring_a_month_twice_is_refused(client, demo):
    body, headers = session(client, ZHANG)
    eid = enrollment_id(body, "pension")
    client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 398000}, headers=headers)
    first = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]}, headers=headers)
    again = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]}, headers=headers)
    assert first.status_code == 201 and again.status_code == 409
    assert again.json["code"] == "period_already_declared"


def test_resident_declares_next_year_by_grade(client, demo):
    body, headers = session(client, ZHAO)
    eid = enrollment_id(body, "pension")
    options = client.get(f"/api/v1/enrollments/{eid}/options?grade=3", headers=headers)
    assert options.status_code == 200
    assert options.json["year"] == 2026 and options.json["preview"]["amount_per_year_fen"] == 40000
    chosen = client.post(f"/api/v1/enrollments/{eid}/choices", json={"grade": "3", "effective_month": "2026-01"},
                         headers=headers)
    assert chosen.status_code == 201, chosen.json
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026"]}, headers=headers)
    assert declared.status_code == 201, declared.json
    assert declared.json["assessments"][0]["amount_fen"] == 40000


def test_requests_without_a_session_are_refused(client, demo):
    answer = client.get("/api/v1/enrollments")
    assert answer.status_code == 401 and answer.json["code"] == "identification_required"


def test_someone_elses_enrollment_reads_as_not_found(client, demo):
    zhang, _ = session(client, ZHANG)
    _, zhao_headers = session(client, ZHAO)
    answer = client.get(f"/api/v1/enrollments/{enrollment_id(zhang, 'pension')}", headers=zhao_headers)
    assert answer.status_code == 404 and answer.json["code"] == "enrollment_not_found"


def test_malformed_input_is_422_with_the_fields(client, demo):
    answer = client.post("/api/v1/identifications", json={"name": "张伟", "id_type": "nonsense"})
    assert answer.status_code == 422
    assert answer.json["code"] == "invalid_input"
    assert set(answer.json["errors"]) == {"id_type", "id_number"}


def test_openapi_and_docs_are_served_without_a_cdn(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200 and "/api/v1/identifications" in spec.json["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200
