"""The OpenAPI schema at /api/v1/schema/ generates without a single drf-spectacular warning or error
(the same generation `check --deploy` runs), and every choice set has one stable, meaningful name."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.django_db

# drf-spectacular's collision fallback: field name + first three hash digits, e.g. "Status4dbEnum".
HASH_SUFFIXED_ENUM = re.compile(r"[a-z][0-9A-F][0-9a-f]{2}Enum$")


def _schema_and_problems(client, language: str) -> tuple[dict, list[str]]:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client.get(
            "/api/v1/schema/",
            HTTP_ACCEPT="application/vnd.oai.openapi+json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    assert response.status_code == 200
    return response.json(), problems


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_schema_generates_without_warnings_in_both_languages(client, language):
    """Enum names are keyed by a hash of values *and translated labels*, so both languages count."""
    schema, problems = _schema_and_problems(client, language)
    assert problems == [], "\n".join(problems)
    enums = {name for name in schema["components"]["schemas"] if name.endswith("Enum")}
    assert not {name for name in enums if HASH_SUFFIXED_ENUM.search(name)}


def test_shared_field_names_get_one_name_per_choice_set(client):
    schema, _ = _schema_and_problems(client, "en")
    components = schema["components"]["schemas"]

    def enum_of(component: str, field: str) -> str:
        prop = components[component]["properties"][field]
        refs = [prop.get("$ref")] + [i.get("$ref") for i in prop.get("oneOf", []) + prop.get("allOf", [])]
        (ref,) = [r for r in refs if r and not r.endswith(("/BlankEnum", "/NullEnum"))]
        return ref.rsplit("/", 1)[1]

    assert enum_of("Alarm", "status") == "AlarmStatusEnum"
    assert enum_of("Task", "status") == "TaskStatusEnum"
    assert enum_of("Task", "outcome") == "TaskOutcomeEnum"
    assert enum_of("Alarm", "outcome") == "AlarmOutcomeEnum"
    # one choice set under two field names keeps one name
    assert enum_of("Signal", "signal_type") == enum_of("Alarm", "alarm_type") == "AlarmTypeEnum"
    assert enum_of("Task", "team") == enum_of("RoleAssignment", "role") == "RoleEnum"
    assert enum_of("Consent", "method") == enum_of("FrequencyChangeRequest", "confirmation_method")


def test_gateway_metrics_response_is_described(client):
    schema, _ = _schema_and_problems(client, "en")
    operation = schema["paths"]["/api/v1/gateway/metrics/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/GatewayMetrics")
    listener = schema["components"]["schemas"]["ListenerMetrics"]["properties"]
    assert {"frames", "malformed", "acked", "connections_open"} <= set(listener)
