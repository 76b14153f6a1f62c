"""The whole published API under a property-based run (schemathesis) on PostgreSQL.

Every operation of ``/api/openapi.json`` gets generated requests — valid ones and invalid ones
(wrong types, huge numbers, control characters, broken bodies) — with a payer's session. The
run fails on any 5xx, on any answer the published schema does not describe (status, content
type, body), and on any error answer whose messages a payer could not read (not Chinese).
Generation is derandomized (Hypothesis' fixed seed), so a run is repeatable; the examples per
operation keep it near a minute on two cores. Each operation is driven through schemathesis'
strategies with Hypothesis directly: schemathesis' own pytest plugin does not run under this
pytest (it reads a node attribute pytest 9 no longer has).
"""
from __future__ import annotations

import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

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


def run_operation(operation, mode, headers, seen: Counter) -> str | None:
    """Run one operation's generated requests, counting the statuses seen; its failure (shrunk), as text."""

    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen[(operation.label, response.status_code)] += 1

    try:
        run()
    except Unsatisfiable:  # nothing invalid to send: the operation takes no input at all
        assert mode == GenerationMode.NEGATIVE, operation.label
    except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - report every operation's failure
        return f"{operation.label} ({mode.value}): {failure}"
    return None


def test_no_request_gets_a_server_error_or_an_answer_outside_the_published_schema(api_schema, payer_headers):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 40
    seen = Counter()
    failures = [found for operation in operations for mode in GenerationMode
                if (found := run_operation(operation, mode, payer_headers, seen))]
    assert not failures, "\n\n".join(failures)
    # the session works: the run got past authentication into real answers, not only refusals
    answered = {label for label, status in seen if 200 <= status < 300}
    assert len(answered) >= 12, sorted(answered)
