"""Seed the device type profiles and models (and any missing device type) of the catalogue."""

from django.db import migrations


def seed(apps, schema_editor):
    from pingantong.inventory.catalogue import seed as seed_catalogue

    seed_catalogue(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial"), ("devices", "0002_seed_device_types")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
