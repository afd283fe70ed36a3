"""Models of the inventory app, split by aggregate: catalogue, stock, charges, installation,
supervision."""

from .catalogue import DeviceModel, DeviceTypeProfile
from .charges import Charge
from .installation import Installation, InstallationItem, InstallationPhoto
from .stock import StockEvent, StockItem
from .supervision import DeviceCheck, TestCall

__all__ = [
    "Charge",
    "DeviceCheck",
    "DeviceModel",
    "DeviceTypeProfile",
    "Installation",
    "InstallationItem",
    "InstallationPhoto",
    "StockEvent",
    "StockItem",
    "TestCall",
]
