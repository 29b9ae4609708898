"""The operator API against its own OpenAPI document, fuzzed by schemathesis (on SQLite and
PostgreSQL alike): no input the document allows or forbids makes the server fail, every
answer has a status, content type and body the document declares, and what the document
calls invalid the server refuses. The example count is bounded so the whole module runs in
about a minute per database."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from statusboard.services import tokens
from statusboard.services.audit import Actor
from statusboard.web import openapi

EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearer(session, admin, clock) -> dict[str, str]:
    _, secret = tokens.create_token(session, operator=admin, name="fuzz", actor=Actor(None, "t"))
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _operations():
    """Every operation of the document, as (method, path): one test each."""
    document = schemathesis.openapi.from_dict(openapi.document("https://status.example.com"))
    return [
        (result.ok().method.upper(), result.ok().path) for result in document.get_all_operations()
    ]


@pytest.mark.parametrize("method,path", _operations())
def test_the_operator_api_keeps_to_its_openapi_document(api_schema, bearer, method, path):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def keeps_to_the_document(case):
        case.call_and_validate(headers=bearer, checks=CHECKS)

    keeps_to_the_document()
