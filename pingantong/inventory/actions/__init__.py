"""Writes of the inventory app. Import from here: `from pingantong.inventory.actions import ...`."""

from .assignment import assign_stock_item, preview_charge, replace_stock_item, standard_basic_price
from .installation import (
    InstallationError,
    add_installation_photo,
    bind_installation_device,
    check_activation,
    check_in_installation,
    complete_installation,
    confirm_sim_real_name,
    missing_for_completion,
    record_home_test,
    start_installation,
)
from .remote import RemoteConfigError, configure_device, sos_numbers_from_contacts
from .stock import (
    TRANSITIONS,
    StockError,
    cancel_assignment,
    check_transition,
    receive_stock_item,
    report_fault,
    retire_stock_item,
    return_from_repair,
    send_to_repair,
    take_back,
)
from .supervision import open_maintenance_task, record_test_call, run_weekly_check, supervise_devices

__all__ = [
    "TRANSITIONS",
    "InstallationError",
    "RemoteConfigError",
    "StockError",
    "add_installation_photo",
    "assign_stock_item",
    "bind_installation_device",
    "cancel_assignment",
    "check_activation",
    "check_in_installation",
    "check_transition",
    "complete_installation",
    "configure_device",
    "confirm_sim_real_name",
    "missing_for_completion",
    "open_maintenance_task",
    "preview_charge",
    "receive_stock_item",
    "record_home_test",
    "record_test_call",
    "replace_stock_item",
    "report_fault",
    "retire_stock_item",
    "return_from_repair",
    "run_weekly_check",
    "send_to_repair",
    "sos_numbers_from_contacts",
    "standard_basic_price",
    "start_installation",
    "supervise_devices",
    "take_back",
]
