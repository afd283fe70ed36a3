"""Access-matrix factories (pingantong.testing.access_matrix): one record of each model per region."""

from __future__ import annotations

import itertools

from django.utils import timezone

_seq = itertools.count(1)


def _device(region_code: str):
    from pingantong.clients.testing import make_client
    from pingantong.devices.actions import bind_device, register_device
    from pingantong.testing.regions import village_of

    region = village_of(region_code) if region_code.endswith("000") else region_code
    device = register_device(protocol="watch", identity=f"99{next(_seq):08d}", device_type="watch")
    return bind_device(device=device, client=make_client(region=region))


def _state(region_code: str):
    return _device(region_code).state


def _event(region_code: str):
    from pingantong.devices.models import DeviceEventRecord

    device = _device(region_code)
    return DeviceEventRecord.objects.create(
        device=device,
        protocol="watch",
        device_identity=device.identity,
        message="LK",
        kind="heartbeat",
        received_at=timezone.now(),
    )


def _raw(region_code: str):
    from pingantong.devices.models import RawFrame

    device = _device(region_code)
    return RawFrame.objects.create(protocol="watch", device=device, received_at=timezone.now(), data=b"[x]")


def _position(region_code: str):
    from pingantong.devices.models import PositionRecord

    now = timezone.now()
    return PositionRecord.objects.create(
        device=_device(region_code),
        recorded_at=now,
        received_at=now,
        latitude=26.26,
        longitude=117.63,
        valid=True,
    )


def _vitals(region_code: str):
    from pingantong.devices.models import VitalsRecord

    now = timezone.now()
    return VitalsRecord.objects.create(
        device=_device(region_code), recorded_at=now, received_at=now, heart_rate_bpm=70
    )


def _sensor(region_code: str):
    from pingantong.devices.models import SensorRecord

    now = timezone.now()
    return SensorRecord.objects.create(
        device=_device(region_code), recorded_at=now, received_at=now, state={}
    )


def _life_sign(region_code: str):
    from pingantong.devices.models import LifeSign

    return LifeSign.objects.create(device=_device(region_code), occurred_at=timezone.now(), source="steps")


def _inbox(region_code: str):
    from pingantong.devices.models import UnknownDeviceInbox
    from pingantong.testing.regions import village_of

    now = timezone.now()
    region = village_of(region_code) if region_code.endswith("000") else region_code
    return UnknownDeviceInbox.objects.create(
        protocol="watch",
        identity=f"88{next(_seq):08d}",
        region_id=region,
        first_seen_at=now,
        last_seen_at=now,
    )


def _command(region_code: str):
    from pingantong.devices.actions import queue_command

    return queue_command(device=_device(region_code), kind="locate_now")


ACCESS_FACTORIES = {
    "devices.Device": _device,
    "devices.DeviceState": _state,
    "devices.DeviceEventRecord": _event,
    "devices.RawFrame": _raw,
    "devices.PositionRecord": _position,
    "devices.VitalsRecord": _vitals,
    "devices.SensorRecord": _sensor,
    "devices.LifeSign": _life_sign,
    "devices.UnknownDeviceInbox": _inbox,
    "devices.DownlinkCommand": _command,
}
