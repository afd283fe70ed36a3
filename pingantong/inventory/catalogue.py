"""The reference catalogue as data: device types the field service needs, their profiles and the
models the agency buys. Loaded by migration 0002 and by `ensure_catalogue()` (tests flush tables).

Columns of PROFILES: code, name (if the type must be created), proves, functions, basic terminal,
wearable, weekly check, device silence threshold (s), needs mobile signal, explanation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

H = 3600

# code, name, proves_person, expected_interval_s, life-sign silence (s): used only when the devices
# app has not seeded the type (get_or_create; existing rows are left as their owner set them).
TYPES = [
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

PROFILES: list[tuple[Any, ...]] = [
    # code, proves, functions, basic, wearable, weekly, device silence, signal, explanation
    (
        "watch",
        "person",
        ["location", "voice", "sos", "fall", "steps", "heart_rate"],
        True,
        True,
        True,
        2 * H,
        True,
        "4G SOS watch: location, two-way voice, one-key SOS (D1); steps prove the person",
    ),
    (
        "pendant",
        "person",
        ["location", "voice", "sos", "fall"],
        True,
        True,
        True,
        3 * H,
        True,
        "4G SOS pendant: location, two-way voice, one-key SOS (D1), for those who will not wear a watch",
    ),
    (
        "jt808_tracker",
        "device",
        ["location", "sos"],
        False,
        True,
        True,
        2 * H,
        True,
        "JT/T 808 tracker: location and SOS",
    ),
    (
        "sos_button",
        "person",
        ["sos"],
        False,
        False,
        True,
        26 * H,
        False,
        "Fixed one-key alarm button by the bed or in the bathroom: a press proves the person",
    ),
    (
        "door",
        "person",
        ["door"],
        False,
        False,
        False,
        26 * H,
        False,
        "Door contact: an opening proves the person; battery sensor reports about daily",
    ),
    (
        "motion",
        "person",
        ["motion"],
        False,
        False,
        False,
        26 * H,
        False,
        "PIR motion sensor: movement at home proves the person",
    ),
    (
        "smoke",
        "device",
        ["smoke"],
        False,
        False,
        False,
        26 * H,
        False,
        "Smoke detector: fire alarm (S25); heartbeat proves only the device",
    ),
    (
        "gas",
        "device",
        ["gas"],
        False,
        False,
        False,
        26 * H,
        False,
        "Gas detector for homes cooking with gas (S25)",
    ),
    ("water_leak", "device", ["water_leak"], False, False, False, 26 * H, False, "Water leak sensor (S25)"),
    (
        "camera",
        "person",
        ["motion", "events"],
        False,
        False,
        False,
        2 * H,
        False,
        "Camera: motion events only, no video is stored (S05, X2)",
    ),
    (
        "vitals",
        "person",
        ["blood_pressure", "heart_rate"],
        False,
        False,
        False,
        26 * H,
        False,
        "Blood-pressure / vitals device: a reading proves the person (S22)",
    ),
]

MODELS = [
    # vendor, model, type, protocol, price, multi-function, basic terminal
    ("平安通", "PAT-W1 4G手表", "watch", "watch", Decimal("399.00"), False, True),
    ("平安通", "PAT-W2 4G健康手表", "watch", "watch", Decimal("699.00"), True, True),
    ("平安通", "PAT-P1 4G挂件", "pendant", "watch", Decimal("359.00"), False, True),
    ("博实", "BS-808 定位器", "jt808_tracker", "jt808", Decimal("299.00"), False, False),
    ("安居", "AJ-B1 一键报警器", "sos_button", "mqtt", Decimal("89.00"), False, False),
    ("安居", "AJ-D1 门磁", "door", "mqtt", Decimal("49.00"), False, False),
    ("安居", "AJ-M1 人体感应", "motion", "mqtt", Decimal("69.00"), False, False),
    ("安居", "AJ-S1 烟感", "smoke", "mqtt", Decimal("99.00"), False, False),
    ("安居", "AJ-G1 燃气报警器", "gas", "mqtt", Decimal("159.00"), False, False),
    ("安居", "AJ-L1 水浸", "water_leak", "mqtt", Decimal("59.00"), False, False),
    ("视安", "SA-C1 事件摄像头", "camera", "webhook", Decimal("259.00"), False, False),
    ("康测", "KC-BP1 血压计", "vitals", "webhook", Decimal("299.00"), False, False),
]


def seed(apps: Any, schema_editor: Any = None) -> None:
    """Idempotent: types are created only when missing, profiles and models are upserted."""
    DeviceType = apps.get_model("devices", "DeviceType")
    Profile = apps.get_model("inventory", "DeviceTypeProfile")
    Model = apps.get_model("inventory", "DeviceModel")
    for code, name, proves_person, interval, silence in TYPES:
        DeviceType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "proves_person": proves_person,
                "expected_interval_s": interval,
                "silence_threshold_s": silence,
            },
        )
    for order, (code, proves, functions, basic, wearable, weekly, silence, signal, text) in enumerate(
        PROFILES
    ):
        if not DeviceType.objects.filter(code=code).exists():
            continue
        Profile.objects.update_or_create(
            device_type_id=code,
            defaults={
                "proves": proves,
                "functions": functions,
                "basic_terminal": basic,
                "wearable": wearable,
                "weekly_check": weekly,
                "device_silence_s": silence,
                "needs_signal": signal,
                "explanation": text,
                "offered": code != "jt808_tracker",
                "sort_order": order,
            },
        )
    for vendor, model, code, protocol, price, multi, basic in MODELS:
        if not DeviceType.objects.filter(code=code).exists():
            continue
        Model.objects.update_or_create(
            vendor=vendor,
            model=model,
            defaults={
                "device_type_id": code,
                "protocol": protocol,
                "price": price,
                "multi_function": multi,
                "basic_terminal": basic,
            },
        )


def ensure_catalogue() -> None:
    """Put the catalogue back after a transactional test flushed it (also re-seeds device types)."""
    from django.apps import apps

    from pingantong.devices.models import default_unbound_region_code
    from pingantong.inventory.models import DeviceModel, DeviceTypeProfile
    from pingantong.regions.models import Region

    Region.objects.get_or_create(code=default_unbound_region_code(), defaults={"name": "三元区", "level": 3})
    if DeviceModel.objects.count() >= len(MODELS) and DeviceTypeProfile.objects.count() >= len(TYPES):
        return
    seed(apps)
