"""Versioned event contracts. Importing this package registers every v1 type."""

from vigie_shared.events import v1
from vigie_shared.events.envelope import Envelope, EnvelopeError, event_id_for
from vigie_shared.events.registry import DuplicateEventType, EventData, model_for, registered

__all__ = [
    "DuplicateEventType",
    "Envelope",
    "EnvelopeError",
    "EventData",
    "event_id_for",
    "model_for",
    "registered",
    "v1",
]
