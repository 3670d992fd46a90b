"""schemathesis against /openapi.json: generated requests to every API operation, as a
signed-in person and anonymously, find no server error (HTTP 5xx).

Besides tasks, the database holds the school cases of the case fixtures (both rounds,
a help programme that failed, so the gate is open for СШ № 1, and a request waiting for
approval): the generated case ids and bodies reach real cases, the gate and four eyes."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from engine.app import App
from engine.app.access import api_token
from engine.app.cases import assign_help, open_administrative
from engine.web import create_app
from tests.cases_data import load_directory, load_round
from tests.factories import setup


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_generated_requests_find_no_server_error(app: App) -> None:
    setup(app, count=2, state="reported")
    load_directory(app)
    load_round(app, 2025)
    assign_help(app, "sosh1", "petrova", template=True)
    load_round(app, 2026)
    open_administrative(app, "sosh1", "unscheduled_inspection", "lebedev", "Сдвига нет")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    seen: set[int] = set()
    for who in ("sup", "resp", "petrova", "sokolova", None):
        for operation in operations:
            _fuzz(app, operation, who, failures, seen)
    assert failures == []
    assert {200, 401, 404, 422} <= seen  # the requests reached the handlers, not just the door


def _fuzz(app: App, operation: Any, who: str | None, failures: list[str], seen: set[int]) -> None:
    headers = {"Authorization": f"Bearer {api_token(app, who, 1)}"} if who else {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        seen.add(response.status_code)
        if response.status_code >= 500:
            failures.append(
                f"{who}: {case.method} {case.formatted_path} {case.body!r} -> "
                f"{response.status_code} {response.text[:200]}"
            )

    check()
