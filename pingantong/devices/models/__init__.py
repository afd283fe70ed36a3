"""Models of the devices app: the registry (what terminals exist and whom they serve), their latest
state, their time series, the inbox of unknown terminals and the downlink command queue.

Split by aggregate so that later additions (inventory, installation) get their own module here.
"""

from pingantong.devices.models.commands import CommandKind, CommandStatus, DownlinkCommand
from pingantong.devices.models.registry import (
    Device,
    DeviceProtocol,
    DeviceStatus,
    DeviceType,
    DeviceTypeCode,
    UnknownDeviceInbox,
    default_tz_offset_minutes,
    default_unbound_region_code,
)
from pingantong.devices.models.state import DeviceState, LifeSign, LifeSignSource
from pingantong.devices.models.telemetry import (
    DeviceEventRecord,
    PositionRecord,
    RawFrame,
    SensorRecord,
    UnprocessedEvent,
    VitalsRecord,
)
from pingantong.devices.models.webhooks import WebhookNonce, WebhookVendor

__all__ = [
    "CommandKind",
    "CommandStatus",
    "Device",
    "DeviceEventRecord",
    "DeviceProtocol",
    "DeviceState",
    "DeviceStatus",
    "DeviceType",
    "DeviceTypeCode",
    "DownlinkCommand",
    "LifeSign",
    "LifeSignSource",
    "PositionRecord",
    "RawFrame",
    "SensorRecord",
    "UnknownDeviceInbox",
    "UnprocessedEvent",
    "VitalsRecord",
    "WebhookNonce",
    "WebhookVendor",
    "default_tz_offset_minutes",
    "default_unbound_region_code",
]
