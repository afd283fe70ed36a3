"""The devices registered in the database, as a fleet to simulate (the demo district's terminals)."""

from __future__ import annotations

from .fleet import SANYUAN_CENTRE, SimDevice


def devices_from_database(limit: int | None = None) -> list[SimDevice]:
    from pingantong.devices.models import Device

    result = []
    queryset = Device.objects.select_related("client").order_by("pk")
    for device in queryset[:limit] if limit else queryset:
        client = getattr(device, "client", None)
        lat = getattr(client, "home_lat", None) or SANYUAN_CENTRE[0]
        lon = getattr(client, "home_lon", None) or SANYUAN_CENTRE[1]
        protocol = getattr(device, "protocol", "watch")
        sensor = ""
        if protocol == "mqtt":
            sensor = str(
                getattr(device, "device_type_id", "") or getattr(device, "device_type", "") or "door"
            )
        result.append(SimDevice(protocol, device.identity, float(lat), float(lon), sensor))
    return result
