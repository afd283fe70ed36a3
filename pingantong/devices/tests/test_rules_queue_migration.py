"""Migration devices 0011 (decision 0132): the events a gateway stored and had not yet processed
when the rules queue replaced the `processed_at` column are on the queue afterwards, and only they;
going back marks every event that is not queued as processed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("devices", "0010_telemetry_device_references_without_constraint")]
AFTER = [("devices", "0011_rules_queue_replaces_processed_at")]


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def test_unprocessed_events_are_queued_by_the_migration_and_processed_ones_are_not():
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            for pk, node, processed in (
                (1, "node-a", None),
                (2, "node-a", "2026-11-30 01:00:00"),
                (3, "", None),
            ):
                cursor.execute(
                    'INSERT INTO "devices_deviceeventrecord" ("id", "protocol", "device_identity", "message", '
                    '"kind", "alarms", "received_at", "archived", "payload", "gateway_node", "processed_at") '
                    "VALUES (%s, 'watch', '1', 'UD', 'position', '[]', '2026-11-30 01:00:00', %s, '{}', %s, %s)",
                    [pk, False, node, processed],
                )
        _migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT "gateway_node", "event_id" FROM "devices_unprocessedevent" ORDER BY "event_id"'
            )
            assert cursor.fetchall() == [("node-a", 1), ("", 3)]
            cursor.execute('DELETE FROM "devices_unprocessedevent" WHERE "event_id" = 3')
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute('SELECT "id" FROM "devices_deviceeventrecord" WHERE "processed_at" IS NULL')
            assert cursor.fetchall() == [(1,)], "going back, only the queued event is left unprocessed"
    finally:
        _migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute('DELETE FROM "devices_deviceeventrecord" WHERE "id" IN (1, 2, 3)')
