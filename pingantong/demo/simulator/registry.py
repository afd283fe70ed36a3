"""The devices registered in the database, as a fleet to simulate (the demo district's terminals).

Each registered device becomes a simulated terminal of its protocol at its bound client's home
(the district's centre when unbound); an MQTT sensor publishes as the sensor type its registry
type names (a motion sensor as `pir`, a water-leak sensor as `water`, as zigbee2mqtt hubs do).
"""

from __future__ import annotations

from .fleet import SANYUAN_CENTRE, SimDevice

# Registry device type → the `type` a zigbee2mqtt-style payload carries (pingantong.gateway.mqtt).
SENSOR_TYPES = {
    "door": "door",
    "motion": "pir",
    "smoke": "smoke",
    "gas": "gas",
    "water_leak": "water",
    "sos_button": "sos",
}
SIMULATED_PROTOCOLS = ("watch", "jt808", "mqtt")


def devices_from_database(
    limit: int | None = None, *, protocols: tuple[str, ...] = SIMULATED_PROTOCOLS
) -> list[SimDevice]:
    """Active devices of the given protocols, oldest first, as SimDevices (at most `limit`)."""
    from pingantong.devices.models import Device

    queryset = (
        Device.objects.filter(protocol__in=protocols, status="active").select_related("client").order_by("pk")
    )
    result = []
    for device in queryset[:limit] if limit else queryset:
        client = device.client
        lat = (client.home_lat if client else None) or SANYUAN_CENTRE[0]
        lon = (client.home_lon if client else None) or SANYUAN_CENTRE[1]
        sensor = SENSOR_TYPES.get(device.device_type_id, "door") if device.protocol == "mqtt" else ""
        result.append(SimDevice(device.protocol, device.identity, float(lat), float(lon), sensor))
    return result
