"""The envelope every record carries, with CloudEvents attribute names, mapped to Kafka headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigie_shared.events.registry import EventData, model_for

SPEC_VERSION = "1.0"
HEADER_PREFIX = "ce_"
CONTENT_TYPE = "application/json"

D = TypeVar("D", bound=EventData)

_ENVELOPE_HEADERS = ("id", "type", "source", "time", "specversion", "correlationid", "dataschema")


class EnvelopeError(ValueError):
    """A record whose headers or body do not form a valid event."""


def event_id_for(*parts: str) -> str:
    """A deterministic event id, so an event re-derived after a redelivery keeps its identity."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vigie:" + "/".join(parts)))


class Envelope(BaseModel, Generic[D]):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    source: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    specversion: str = SPEC_VERSION
    correlationid: str
    dataschema: str
    data: D

    @classmethod
    def wrap(
        cls,
        data: D,
        *,
        source: str,
        correlationid: str,
        id: str | None = None,
    ) -> Envelope[D]:
        return cls(
            id=id or str(uuid.uuid4()),
            type=data.event_type,
            source=source,
            correlationid=correlationid,
            dataschema=data.schema_uri(),
            data=data,
        )

    def headers(self) -> list[tuple[str, bytes]]:
        values = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "time": self.time.isoformat(),
            "specversion": self.specversion,
            "correlationid": self.correlationid,
            "dataschema": self.dataschema,
        }
        pairs = [(HEADER_PREFIX + name, values[name].encode()) for name in _ENVELOPE_HEADERS]
        pairs.append(("content-type", CONTENT_TYPE.encode()))
        return pairs

    def body(self) -> bytes:
        return self.data.model_dump_json().encode()

    @classmethod
    def decode(cls, headers: dict[str, str], body: bytes) -> Envelope[EventData]:
        """Rebuilds an envelope from a record; raises EnvelopeError when anything is missing or invalid."""
        try:
            attrs = {name: headers[HEADER_PREFIX + name] for name in _ENVELOPE_HEADERS}
        except KeyError as missing:
            raise EnvelopeError(f"missing header {missing.args[0]}") from None
        try:
            model = model_for(attrs["type"])
        except KeyError:
            raise EnvelopeError(f"unknown event type {attrs['type']!r}") from None
        try:
            data = model.model_validate_json(body)
            return Envelope[EventData](**attrs, data=data)
        except ValidationError as invalid:
            # Where and why only: pydantic's own message quotes the value, here a comment's text,
            # and this message travels in dead-letter headers and logs.
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['type']}"
                for error in invalid.errors(include_input=False, include_url=False)
            )
            raise EnvelopeError(f"invalid {attrs['type']} body: {problems}") from None
        except ValueError:
            raise EnvelopeError(f"invalid {attrs['type']} body") from None
