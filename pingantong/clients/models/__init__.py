"""Models of the clients app, one module per aggregate."""

from .client import Client, Contact
from .consent import Consent, FrequencyChangeRequest

__all__ = ["Client", "Consent", "Contact", "FrequencyChangeRequest"]
