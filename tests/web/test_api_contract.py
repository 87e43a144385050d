"""schemathesis against the published OpenAPI document, in process: whatever it sends, the
API answers without a server error and only with a status, content type and body that its
document declares (issue #10)."""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from disclosure.services import auth, cases
from disclosure.services.unit_of_work import App
from disclosure.web.app import create_app
from tests.conftest import application
from tests.web.conftest import TODAY

#: Examples per operation (about 30 operations, on SQLite and PostgreSQL).
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_api_keeps_its_contract(service: App) -> None:
    """Every operation of the document, with bodies and parameters drawn from it and, in
    the negative mode, deliberately breaking it (cases 1 and 2 exist, so paths reach real
    cases too)."""
    for received in ("2026-11-20", "2026-11-23"):
        cases.register(service, application(received_on=received), "alice", TODAY)
    token = auth.create_token(service, "alice", "schemathesis", by="test", channel=auth.Channel.CLI)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(service))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25  # every trigger has its own operation

    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_contract(case: Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            keeps_contract()
        except Unsatisfiable:  # nothing to break: an operation that takes no input
            assert mode is GenerationMode.NEGATIVE and not operation.path_parameters
