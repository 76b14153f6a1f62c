"""The bureaus' push: API with key (JSON and CSV) and the CLI, idempotent, with rejections."""
from __future__ import annotations

import json

import pytest

from app.domain.documents import resident_id_check_char

GOOD = "52010219900618046" + resident_id_check_char("52010219900618046")
CSV = ("name,id_type,id_number,insurance,region,category,insured_number,start_month\n"
       f"王芳,resident_id,{GOOD},pension,520000,flexible,G-1,2020-01\n"
       f"王芳,resident_id,{GOOD[:-1]}{'0' if GOOD[-1] != '0' else '1'},pension,520000,flexible,G-2,2020-01\n")
HEADERS = {"X-Api-Key": "test-bureau-key"}


def test_bureau_endpoint_needs_its_api_key(client):
    answer = client.post("/api/v1/bureau/enrollments", data=CSV, content_type="text/csv")
    assert answer.status_code == 401 and answer.json["code"] == "api_key_invalid"
    wrong = client.post("/api/v1/bureau/enrollments", data=CSV, content_type="text/csv", headers={"X-Api-Key": "x"})
    assert wrong.status_code == 401


def test_csv_import_reports_rejected_rows_and_is_idempotent(client):
    first = client.post("/api/v1/bureau/enrollments", data=CSV, content_type="text/csv", headers=HEADERS)
    assert first.status_code == 200
    assert first.json["created"] == 1
    assert [(r["row"], r["code"]) for r in first.json["rejected"]] == [(2, "id_check_digit_invalid")]
    again = client.post("/api/v1/bureau/enrollments", data=CSV, content_type="text/csv", headers=HEADERS)
    assert (again.json["created"], again.json["unchanged"]) == (0, 1)


def test_json_special_assessments_arrive_and_show_in_status(client):
    client.post("/api/v1/bureau/enrollments", data=CSV, content_type="text/csv", headers=HEADERS)
    rows = [{"insured_number": "G-1", "period_start": "2025-01", "period_end": "2025-03", "amount_fen": 252000,
             "notice_number": "HR-2026-0001", "reason": "人社部门核定补缴"},
            {"insured_number": "nobody", "period_start": "2025-01", "period_end": "2025-03", "amount_fen": 1,
             "notice_number": "HR-2026-0002"}]
    answer = client.post("/api/v1/bureau/special-assessments", json=rows, headers=HEADERS)
    assert answer.json["created"] == 1 and answer.json["rejected"][0]["code"] == "enrollment_not_found"
    token = client.post("/api/v1/identifications", json={"name": "王芳", "id_type": "resident_id",
                                                         "id_number": GOOD}).json["token"]
    status = client.get("/api/v1/payment-status?notice_number=HR-2026-0001", headers={"X-Session-Token": token})
    (row,) = status.json["declared_unpaid"]
    assert row["assessment"]["kind_label"] == "特殊缴费" and row["assessment"]["amount_fen"] == 252000


def test_malformed_body_is_refused_and_writes_nothing(client):
    answer = client.post("/api/v1/bureau/enrollments", data="{not json", content_type="application/json",
                         headers=HEADERS)
    assert answer.status_code == 400 and answer.json["code"] == "rows_format"


def test_cli_imports_a_json_file(runner, tmp_path):
    path = tmp_path / "push.json"
    path.write_text(json.dumps([{"name": "王芳", "id_type": "resident_id", "id_number": GOOD, "insurance": "pension",
                                 "region": "520000", "category": "flexible", "insured_number": "G-9",
                                 "start_month": "2020-01"}], ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["bureau", "import-enrollments", str(path)])
    assert result.exit_code == 0 and "created 1" in result.output
    result = runner.invoke(args=["bureau", "import-enrollments", str(path)])
    assert "created 0, updated 0, unchanged 1, rejected 0" in result.output


@pytest.mark.parametrize("content, says", [
    (b"\xff\xfe not text", "UTF-8"),
    (b"{not json", "JSON"),
    (b'{"people": []}', "rows"),
    (b'["a row that is no object"]', "rows"),
])
def test_cli_refuses_a_file_it_cannot_read_in_one_line_and_writes_nothing(runner, tmp_path, content, says):
    path = tmp_path / "push.json"
    path.write_bytes(content)
    result = runner.invoke(args=["bureau", "import-enrollments", str(path)])
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
