"""InstallationItem.first_event without a database constraint (decision 0101).

On PostgreSQL, migration gateway 0002 turns the events table into monthly partitions and drops this
constraint itself (a foreign key to a partitioned table would have to include `received_at`); this
migration only brings the model state in line, so it changes nothing in the database and unapplies
cleanly when gateway 0002 is unapplied. On SQLite the events table stays plain and keeps its
REFERENCES clause until the table is next rebuilt, which is harmless.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0006_telemetry_references_for_partitions"),
        ("inventory", "0002_seed_catalogue"),
        ("gateway", "0002_partition_telemetry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="installationitem",
                    name="first_event",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="devices.deviceeventrecord",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
