"""Platform name -> inbound connector. Names become URL segments and metric labels: they are unique."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Iterator

import vigie_platforms
from vigie_platforms.inbound.connector import InboundConnector


class DuplicateConnector(ValueError):
    pass


class InboundRegistry:
    def __init__(self) -> None:
        self._connectors: dict[str, InboundConnector] = {}

    def register(self, connector: InboundConnector) -> InboundConnector:
        name = connector.name
        if name in self._connectors:
            raise DuplicateConnector(
                f"inbound connector {name!r} is already registered by "
                f"{type(self._connectors[name]).__qualname__}"
            )
        self._connectors[name] = connector
        return connector

    def get(self, name: str) -> InboundConnector | None:
        return self._connectors.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._connectors)

    def __iter__(self) -> Iterator[InboundConnector]:
        return iter(self._connectors.values())

    def __len__(self) -> int:
        return len(self._connectors)


def discover() -> InboundRegistry:
    """Every `vigie_platforms.<platform>.inbound` module's `CONNECTOR`, in order of connector name.

    Called by ingest's app factory (nothing is imported or registered at import time). A folder
    without an inbound module (outbound/), or whose module declares no connector (instagram/, which
    arrives through Meta's one webhook), adds nothing.
    """
    found: list[InboundConnector] = []
    for module in sorted(pkgutil.iter_modules(vigie_platforms.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        name = f"{vigie_platforms.__name__}.{module.name}.inbound"
        if importlib.util.find_spec(name) is None:
            continue
        connector = getattr(importlib.import_module(name), "CONNECTOR", None)
        if connector is not None:
            found.append(connector)
    registry = InboundRegistry()
    for connector in sorted(found, key=lambda c: c.name):
        registry.register(connector)
    return registry
