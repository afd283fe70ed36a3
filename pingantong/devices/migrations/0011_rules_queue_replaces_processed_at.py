"""The rules stage's queue is a table of its own instead of a `processed_at` column (decision 0132).

Events not yet processed when this runs are queued; going back marks every event that is not
queued as processed now.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0010_telemetry_device_references_without_constraint'),
    ]

    operations = [
        migrations.CreateModel(
            name='UnprocessedEvent',
            fields=[
                ('pk', models.CompositePrimaryKey('gateway_node', 'event_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('gateway_node', models.CharField(blank=True, max_length=64, verbose_name='gateway node')),
                ('event_id', models.BigIntegerField(verbose_name='event')),
            ],
            options={
                'verbose_name': 'unprocessed event',
                'verbose_name_plural': 'unprocessed events',
            },
        ),
        migrations.RunSQL(
            sql=(
                'INSERT INTO "devices_unprocessedevent" ("gateway_node", "event_id") '
                'SELECT "gateway_node", "id" FROM "devices_deviceeventrecord" WHERE "processed_at" IS NULL'
            ),
            reverse_sql=(
                'UPDATE "devices_deviceeventrecord" SET "processed_at" = CURRENT_TIMESTAMP '
                'WHERE "id" NOT IN (SELECT "event_id" FROM "devices_unprocessedevent")'
            ),
        ),
        migrations.RemoveIndex(
            model_name='deviceeventrecord',
            name='event_unprocessed_id',
        ),
        migrations.RemoveField(
            model_name='deviceeventrecord',
            name='processed_at',
        ),
    ]
