from django.db import migrations


def load(apps, schema_editor):
    from pingantong.clients.catalogue import SERVICE_ITEMS

    ServiceItem = apps.get_model("clients", "ServiceItem")
    for code, category, name, description, kind in SERVICE_ITEMS:
        ServiceItem.objects.update_or_create(
            code=code, defaults={"category": category, "name": name, "description": description, "kind": kind}
        )


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_serviceitem_application_applicationstep_notice_and_more")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
