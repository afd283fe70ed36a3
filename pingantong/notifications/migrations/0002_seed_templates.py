from django.db import migrations


def seed(apps, schema_editor):
    from pingantong.notifications.seed import SEED_TEMPLATES

    Template = apps.get_model("notifications", "Template")
    for code, name, purpose, text in SEED_TEMPLATES:
        Template.objects.get_or_create(code=code, defaults={"name": name, "purpose": purpose, "text": text})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial"), ("regions", "0003_load_sanyuan")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
