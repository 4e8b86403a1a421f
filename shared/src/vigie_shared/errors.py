"""Failures of something a service depends on, told apart from failures of the input itself.

A dependency failure (database, bus, platform, network) says nothing about the record being handled:
the consumer waits and tries the same record again. Anything else is about the record, and only
that may send it to the dead letters.
"""

from __future__ import annotations


class DependencyUnavailable(RuntimeError):
    """A dependency cannot serve right now; retry the same work later. Handlers and adapters raise it."""

    def __init__(self, message: str, *, dependency: str = "dependency") -> None:
        super().__init__(message)
        self.dependency = dependency


_MAX_CHAIN = 8


def dependency_failure(error: BaseException) -> str | None:
    """The kind of dependency that failed ("database", "bus", "network", ...), or None when the
    error is not a known transient one. Looks through the causes a wrapper (SQLAlchemy, a handler's
    own `raise ... from`) put around it.
    """
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < _MAX_CHAIN:
        kind = _classify(current)
        if kind is not None:
            return kind
        seen += 1
        current = current.__cause__ or getattr(current, "orig", None) or current.__context__
    return None


def _classify(error: BaseException) -> str | None:
    if isinstance(error, DependencyUnavailable):
        return error.dependency
    database = _database_failure(error)
    if database:
        return database
    kafka = _kafka_failure(error)
    if kafka:
        return kafka
    if isinstance(error, ConnectionError | TimeoutError):
        return "network"
    if isinstance(error, OSError):
        return "io"
    return None


def _database_failure(error: BaseException) -> str | None:
    from sqlalchemy import exc as sa

    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return "database"
    if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError | sa.TimeoutError):
        return "database"
    import sqlite3

    # The embedded bus and stores speak to SQLite directly too: "database is locked", an unreadable file.
    if isinstance(error, sqlite3.OperationalError):
        return "database"
    import asyncpg

    transient = (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.AdminShutdownError,
        asyncpg.CrashShutdownError,
    )
    if isinstance(error, transient):
        return "database"
    return None


def _kafka_failure(error: BaseException) -> str | None:
    from aiokafka.errors import KafkaError

    if isinstance(error, KafkaError) and getattr(error, "retriable", False):
        return "bus"
    return None
