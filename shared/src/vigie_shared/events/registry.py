"""Event type name -> pydantic model. Names become topic payload identities, so they must be unique."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

_REGISTRY: dict[str, type[EventData]] = {}

M = TypeVar("M", bound="type[EventData]")  # the decorated class itself


class DuplicateEventType(ValueError):
    pass


class EventData(BaseModel):
    """Base of every event body. Within a version only additive, optional fields may be added."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]

    @classmethod
    def schema_uri(cls) -> str:
        return f"vigie:{cls.event_type}/v{cls.schema_version}"


def register(event_type: str, version: int) -> Callable[[M], M]:
    def decorate(model: M) -> M:
        if event_type in _REGISTRY:
            raise DuplicateEventType(
                f"event type {event_type!r} is already registered by {_REGISTRY[event_type].__name__}"
            )
        model.event_type = event_type
        model.schema_version = version
        _REGISTRY[event_type] = model
        return model

    return decorate


def model_for(event_type: str) -> type[EventData]:
    return _REGISTRY[event_type]


def registered() -> dict[str, type[EventData]]:
    return dict(_REGISTRY)
