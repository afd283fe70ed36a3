"""Models of the notifications app: messages and their templates, recipients' preferences,
broadcasts and the weather warnings that start them."""

from .broadcasts import Broadcast, WeatherWarning
from .messages import Message, RecipientPreference, Template

__all__ = ["Broadcast", "Message", "RecipientPreference", "Template", "WeatherWarning"]
