from django.db import migrations


def seed(apps, schema_editor):
    from pingantong.alarms.escalation import TEMPLATE_CODE, TEMPLATE_NAME, TEMPLATE_TEXT

    Template = apps.get_model("notifications", "Template")
    Template.objects.get_or_create(
        code=TEMPLATE_CODE, defaults={"name": TEMPLATE_NAME, "purpose": "sos", "text": TEMPLATE_TEXT}
    )


class Migration(migrations.Migration):
    dependencies = [("alarms", "0003_centre_settings"), ("notifications", "0002_seed_templates")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
