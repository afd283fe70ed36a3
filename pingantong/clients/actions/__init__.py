"""Writes of the clients app (typed, keyword-only, one transaction each; side effects after commit)."""

from .agreements import apply_due_terminations, draft_agreement, sign_agreement, terminate_client
from .applications import (
    approve_application,
    file_application,
    record_application,
    refile_application,
    return_application,
)
from .clients import (
    add_contact,
    check_id_number,
    confirm_frequency_change,
    move_contact,
    record_consent,
    register_client,
    remove_contact,
    reorder_contacts,
    request_frequency_change,
    set_home_location,
    update_client,
)

__all__ = [
    "add_contact",
    "apply_due_terminations",
    "approve_application",
    "check_id_number",
    "confirm_frequency_change",
    "draft_agreement",
    "file_application",
    "move_contact",
    "record_application",
    "record_consent",
    "refile_application",
    "register_client",
    "remove_contact",
    "reorder_contacts",
    "request_frequency_change",
    "return_application",
    "set_home_location",
    "sign_agreement",
    "terminate_client",
    "update_client",
]
