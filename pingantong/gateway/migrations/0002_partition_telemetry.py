"""PostgreSQL: the telemetry tables become monthly range partitions on `received_at` (decision 0101).

Runs on an existing database with data: each table is copied into its partitioned replacement
(months from its oldest row to `MONTHS_AHEAD` months ahead, plus a default partition), and every
foreign key that pointed at a raw frame or an event is dropped first (a partitioned table's keys
must include the partition key). SQLite: nothing to do, the tables stay plain.
"""

from django.db import migrations

from pingantong.gateway import partitions


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.drop_foreign_keys_to(cursor, list(partitions.PARTITIONED))
        for table in partitions.PARTITIONED:
            partitions.partition_table(cursor, table)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in partitions.PARTITIONED:
            partitions.unpartition_table(cursor, table)


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0001_webhook_order"),
        ("devices", "0006_telemetry_references_for_partitions"),
        # InstallationItem.first_event references events: its constraint exists before it is dropped here.
        ("inventory", "0001_initial"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
