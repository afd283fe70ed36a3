"""Models of the clients app, one module per aggregate."""

from .agreement import Agreement, ServiceItem, Termination
from .application import Application, ApplicationStep, Notice
from .client import Client, Contact
from .consent import Consent, FrequencyChangeRequest

__all__ = [
    "Agreement",
    "Application",
    "ApplicationStep",
    "Client",
    "Consent",
    "Contact",
    "FrequencyChangeRequest",
    "Notice",
    "ServiceItem",
    "Termination",
]
