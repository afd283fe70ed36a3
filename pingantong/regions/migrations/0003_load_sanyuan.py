"""Load 三元区 (350404), its towns/streets and villages/communities, and its ancestors 福建省 and
三明市 from the shipped data (2023 vintage of the statistical division codes), so that every fresh
database has the district the platform serves. Other districts: `pingantong loadregions CODE`.

Loading is an idempotent upsert, so running this on a database that already has the rows changes
nothing; reversing it leaves the rows in place (users and clients point at them)."""

from django.db import migrations


def load_sanyuan(apps, schema_editor):
    from pingantong.regions.loading import SANYUAN, load_regions, shipped_rows

    load_regions(shipped_rows(), under=SANYUAN, model=apps.get_model("regions", "Region"))


class Migration(migrations.Migration):
    dependencies = [("regions", "0002_region_short_name")]

    operations = [migrations.RunPython(load_sanyuan, migrations.RunPython.noop, elidable=False)]
