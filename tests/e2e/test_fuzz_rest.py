"""Schemathesis against the served OpenAPI document: every operation, positive and negative
cases, a bounded number of examples; no 5xx, and every answer as the document says."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not gated: positive_data_acceptance. The document states types, lengths, patterns, the
# identifier rule and the transcript kinds, but not every rule (timestamps between 2000 and
# 2200, no NUL characters or lone surrogates), so some generated bodies are refused, with 400.


# A multipart body that does not parse is answered by Django itself, before the API's views,
# with an empty 400 (docs/errors.md, "from the frameworks"); its negative cases are left out.
FRAMEWORK_PARSED = {"POST /api/customer/attachments"}
EXAMPLES = 25  # per operation and mode: a few seconds in all


def fuzz(server, operation, mode, checks) -> int:
    tried = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case):
        nonlocal tried
        tried += 1
        case.call_and_validate(base_url=server.url, checks=checks)

    try:
        answers_as_documented()
    except Unsatisfiable:  # nothing to make invalid (logout takes no input): no negative cases
        assert mode == schemathesis.GenerationMode.NEGATIVE
    return tried


def test_the_rest_api_answers_as_its_document_says(server):
    # Driven through hypothesis directly: schemathesis's pytest plugin does not run under pytest 9.
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"POST /api/customer/init", "POST /api/agent/login", "POST /api/agent/logout"} <= labels
    tried = 0
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            if mode == schemathesis.GenerationMode.NEGATIVE and operation.label in FRAMEWORK_PARSED:
                continue
            tried += fuzz(server, operation, mode, CHECKS)
    assert tried >= len(operations) * EXAMPLES - EXAMPLES * len(FRAMEWORK_PARSED)
