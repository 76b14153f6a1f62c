"""The whole published API under a property-based run (schemathesis) on PostgreSQL.

Every operation of ``/api/openapi.json`` gets generated requests — valid ones and invalid ones
(wrong types, huge numbers, control characters, broken bodies) — with a payer's session. The
run fails on any 5xx, on any answer the published schema does not describe (status, content
type, body), and on any error answer whose messages a payer could not read (not Chinese).
Generation is derandomized (Hypothesis' fixed seed), so a run is repeatable; the examples per
operation keep it near a minute on two cores. Random generation seldom draws the few values that
once broke things (an id past 2³¹, a date in year 1, a NUL byte): a second test sends each of
them in every parameter and body field of every operation, through the same checks.
Each operation runs through schemathesis' test builder directly: its pytest plugin does not run
under this pytest (it reads a node attribute pytest 9 no longer has).
"""
from __future__ import annotations

import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from app.api.fields import MONTH_PATTERN, PERIOD_PATTERN

ZHANG = {"name": "张伟", "id_type": "resident_id", "id_number": "370202198503150013"}
EXAMPLES_PER_OPERATION = 20
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def payer_headers(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    found = client.post("/api/v1/identifications", json=ZHANG)
    assert found.status_code == 201, found.json
    return {"X-Session-Token": found.json["token"]}


@pytest.fixture
def api_schema(app, payer_headers):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=schemathesis.Config())


def messages_are_chinese(ctx, response, case):
    """An error answer's message, and each field message, is Chinese."""
    if response.status_code < 400 or "json" not in (response.headers.get("content-type") or [""])[0]:
        return None
    body = response.json()
    if not isinstance(body, dict) or "message" not in body:
        return None  # a provider-format acknowledgement (notify), not ours
    texts = [body["message"], *_field_messages(body.get("errors") or {})]
    english = [t for t in texts if not CJK.search(str(t))]
    assert not english, f"messages a payer cannot read: {english}"
    return None


def _field_messages(errors):
    for value in errors.values() if isinstance(errors, dict) else errors:
        if isinstance(value, (dict, list)):
            yield from _field_messages(value)
        else:
            yield value


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          messages_are_chinese]


def run_operation(operation, headers, seen: Counter) -> str | None:
    """Run one operation's requests — schemathesis' coverage cases (boundaries: huge numbers, far dates,
    NUL bytes, wrong types), then generated valid and invalid ones — counting the statuses seen; its
    failure (shrunk), as text."""

    def run(case):
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen[(operation.label, response.status_code)] += 1

    config = HypothesisTestConfig(
        project=operation.schema.config, modes=[HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING],
        settings=settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck),
                          phases=[Phase.explicit, Phase.generate, Phase.shrink]))
    try:
        create_test(operation=operation, test_func=run, config=config)()
    except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - report every operation's failure
        return f"{operation.label}: {failure}"
    return None


def test_no_request_gets_a_server_error_or_an_answer_outside_the_published_schema(api_schema, payer_headers):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 40
    seen = Counter()
    failures = [found for operation in operations if (found := run_operation(operation, payer_headers, seen))]
    assert not failures, "\n\n".join(failures)
    # the session works: the run got past authentication into real answers, not only refusals
    answered = {label for label, status in seen if 200 <= status < 300}
    assert len(answered) >= 12, sorted(answered)


# Values random generation rarely draws, each the cause of a class of 500s once: past a 32- or
# 64-bit column, dates Python cannot shift, NUL bytes PostgreSQL refuses, fractions of a fen.
EDGES = {
    "integer": [2**31, 2**63, -1, 0, 10**30],
    "string": ["\x00", "a\x00b", "x" * 5000, "%00", "../.."],
    "date": ["0001-01-01", "9999-12-31", "2026-02-30"],
    "period": ["0000", "9999-12", "2026-13", "0001-01"],
}
BODY_EDGES = {"integer": [1.5, "1.5", True, None], "string": ["\ud800", 7, None], "array": [[], {}, "x"]}
BENIGN = {"integer": 1, "string": "1", "date": "2026-11-01", "period": "2026-11", "boolean": True, "array": [1]}


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _kind(schema) -> str:
    if schema.get("format") == "date":
        return "date"
    if schema.get("pattern") in (PERIOD_PATTERN, MONTH_PATTERN):
        return "period"
    return schema.get("type", "string")


def _benign(schema):
    return schema["enum"][0] if "enum" in schema else BENIGN.get(_kind(schema), "1")


def edge_cases(spec, path, method, operation):
    """(what, path parameters, query, body) variants of one operation, one edge value at a time."""
    declared = spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
    params = [(p["in"], p["name"], p.get("schema", {})) for p in declared if p["in"] in ("path", "query")]
    base = {"path": {n: _benign(s) for where, n, s in params if where == "path"}, "query": {}}
    body_schema = _resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"]) \
        if "requestBody" in operation and "application/json" in operation["requestBody"]["content"] else None
    body = ({n: _benign(_resolve(spec, s)) for n, s in body_schema.get("properties", {}).items()
             if n in body_schema.get("required", [])} if body_schema else None)
    for where, name, schema in params:
        for value in EDGES.get(_kind(schema), []):
            yield f"{where} {name}={value!r:.20}", {**base, where: {**base[where], name: value}}, body
    for name, schema in (body_schema or {}).get("properties", {}).items():
        schema = _resolve(spec, schema)
        kind = _kind(schema)
        for value in EDGES.get(kind, []) + BODY_EDGES.get(kind, []):
            yield f"body {name}={value!r:.20}", base, {**body, name: value}
    if body_schema is not None:
        for whole in ([], "x", 1, None):
            yield f"body={whole!r}", base, whole


def test_edge_values_in_every_parameter_get_no_server_error_and_a_published_answer(api_schema, payer_headers, client):
    spec = client.get("/api/openapi.json").json
    failures, tried = [], 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            target = api_schema[path][method.upper()]
            for what, params, body in edge_cases(spec, path, method, operation):
                case = target.Case(path_parameters=params["path"], query=params["query"] or None,
                                   **({"body": body, "media_type": "application/json"} if body is not None or
                                      what.startswith("body=") else {}))
                tried += 1
                try:
                    case.call_and_validate(headers=payer_headers, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - report them all
                    failures.append(f"{method.upper()} {path} with {what}: {str(failure)[:300]}")
    assert not failures, "\n\n".join(failures)
    assert tried > 300  # every parameter of every operation got its edges
