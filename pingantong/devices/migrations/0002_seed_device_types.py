"""Seed the device types the pilot uses; `proves_person` marks those whose activity shows the
person (not just the device) is alive (S04–S06)."""

from django.db import migrations

H = 3600
TYPES = [
    # code, name, proves_person, expected_interval_s, silence_threshold_s
    ("watch", "智能手表 Smart watch", True, 600, 24 * H),
    ("pendant", "一键呼叫挂件 SOS pendant", True, 3600, 24 * H),
    ("jt808_tracker", "定位终端 JT/T 808 tracker", True, 600, 24 * H),
    ("sos_button", "紧急按钮 SOS button", False, 24 * H, 26 * H),
    ("door", "门磁 Door sensor", True, 24 * H, 26 * H),
    ("motion", "人体感应 Motion sensor", True, 3600, 24 * H),
    ("smoke", "烟感 Smoke detector", False, 24 * H, 26 * H),
    ("gas", "燃气报警器 Gas detector", False, 24 * H, 26 * H),
    ("water_leak", "水浸 Water leak sensor", False, 24 * H, 26 * H),
    ("camera", "摄像头 Camera", True, 600, 24 * H),
    ("vitals", "体征监测 Vitals monitor", True, 3600, 24 * H),
]


def seed(apps, schema_editor):
    DeviceType = apps.get_model("devices", "DeviceType")
    for code, name, proves, interval, silence in TYPES:
        DeviceType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "proves_person": proves,
                "expected_interval_s": interval,
                "silence_threshold_s": silence,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
