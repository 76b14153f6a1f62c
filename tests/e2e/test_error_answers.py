"""Real error answers validate against the published OpenAPI: the error schema is the one every
answer has, and each status is one the operation declares."""
from __future__ import annotations

import json

import jsonschema_rs
import pytest

from tests.e2e.test_api_core_flow import ZHANG, enrollment_id, session

BAD_BODY = {"content_type": "application/json"}


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").json


def error_schema(spec) -> dict:
    """The published error schema as JSON Schema, its references resolved within the spec."""
    return {**spec["components"]["schemas"]["ErrorOut"], "components": spec["components"]}


def declared(spec, path: str, method: str, status: int) -> dict:
    """The error schema the spec names for this operation and status (the status itself must be declared)."""
    responses = spec["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"
    ref = responses[str(status)]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["responses"][ref]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorOut"}
    return error_schema(spec)


def assert_valid(spec, path, method, answer, status):
    assert answer.status_code == status, answer.get_data(as_text=True)
    jsonschema_rs.validate(declared(spec, path, method, status), answer.json)


def test_the_published_error_schema_is_the_shape_every_error_has(spec):
    schema = spec["components"]["schemas"]["ErrorOut"]
    assert set(schema["required"]) == {"code", "status", "message", "errors"}
    assert schema["properties"]["code"]["type"] == "string" and schema["properties"]["status"]["type"] == "integer"
    assert schema["properties"]["errors"]["type"] == "object"


def test_every_operation_declares_its_error_statuses_with_the_error_schema(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "default" in responses, (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= set(responses), (method, path)
            if operation.get("security"):
                assert "401" in responses, (method, path)


def test_real_error_answers_validate_against_the_published_schema(client, runner, spec):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    identify = "/api/v1/identifications"
    assert_valid(spec, identify, "post", client.post(identify, data=b"\x00", **BAD_BODY), 400)
    assert_valid(spec, identify, "post", client.post(identify, data=b"[" * 100000, **BAD_BODY), 400)
    assert_valid(spec, identify, "post", client.post(identify, data=b"name=x", content_type="text/plain"), 415)
    assert_valid(spec, identify, "post", client.post(identify, data=b"{" + b" " * (2 << 20) + b"}", **BAD_BODY), 413)
    wrong = client.post(identify, json={"name": "", "id_type": "passport?", "extra": 1})
    assert_valid(spec, identify, "post", wrong, 422)
    assert set(wrong.json["errors"]) == {"name", "id_type", "id_number", "extra"}

    body, headers = session(client, ZHANG)
    eid = enrollment_id(body, "pension")
    path = "/api/v1/enrollments/{enrollment_id}/choices"
    fraction = client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 500002.5}, headers=headers)
    assert_valid(spec, path, "post", fraction, 422)
    assert fraction.json["errors"] == {"base_fen": ["应为整数，不能有小数"]}
    assert_valid(spec, path, "post", client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 1},
                                                 headers=headers), 400)
    assert_valid(spec, path, "post", client.post("/api/v1/enrollments/2147483648/choices", json={},
                                                 headers=headers), 404)
    assert_valid(spec, path, "post", client.post(f"/api/v1/enrollments/{eid}/choices", json={}), 401)

    declare = "/api/v1/enrollments/{enrollment_id}/declarations"
    client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 398000}, headers=headers)
    assert client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]},
                       headers=headers).status_code == 201
    again = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]}, headers=headers)
    assert_valid(spec, declare, "post", again, 409)
    assert_valid(spec, declare, "post", client.post(f"/api/v1/enrollments/{eid}/declarations",
                                                    json={"periods": ["0000"]}, headers=headers), 422)

    history = client.get("/api/v1/payment-history?end=0001-01-01", headers=headers)
    assert_valid(spec, "/api/v1/payment-history", "get", history, 422)

    verify = "/api/v1/verifications"
    answers = [client.get(f"{verify}?e_ticket_number=3540000261123000000") for _ in range(21)]
    assert_valid(spec, verify, "get", answers[-1], 429)
    assert json.dumps(answers[-1].json, ensure_ascii=False).count("操作过于频繁") == 1


def test_a_bureau_push_with_unstorable_characters_is_refused_whole(client):
    headers = {"X-Api-Key": "test-bureau-key"}
    nul = client.post("/api/v1/bureau/enrollments", data="name,id_type\n张\x00伟,resident_id\n".encode(),
                      content_type="text/csv", headers=headers)
    surrogate = client.post("/api/v1/bureau/enrollments", data=b'[{"name": "\\ud800"}]',
                            content_type="application/json", headers=headers)
    deep = client.post("/api/v1/bureau/enrollments", data=b"[" * 100000, content_type="application/json",
                       headers=headers)
    assert [(a.status_code, a.json["code"]) for a in (nul, surrogate, deep)] == [
        (400, "rows_characters"), (400, "rows_characters"), (400, "rows_format")]


def test_a_notification_past_its_tight_limit_is_refused_before_it_is_read(client, spec):
    big = client.post("/api/v1/notify/fake", data=b"{" + b" " * (65 * 1024) + b"}", content_type="application/json")
    assert_valid(spec, "/api/v1/notify/{provider}", "post", big, 413)
    assert big.json["message"] == "提交的内容过大，请精简后重试"
    unknown = client.post("/api/v1/notify/nobody", data=b"{}", content_type="application/json")
    assert_valid(spec, "/api/v1/notify/{provider}", "post", unknown, 404)
