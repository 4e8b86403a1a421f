"""SQLAlchemy async engines for the services that persist: SQLite by default, PostgreSQL for real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import DateTime, MetaData, String, event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from vigie_shared.events import Envelope
from vigie_shared.events.v1 import CommentRef, Keyed, Platform


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failed statement's error would otherwise quote its values (comment
        # texts), and errors end up in logs and dead-letter headers.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    from vigie_shared.pg_tls import split_ssl

    parsed, tls = split_ssl(parsed)
    return create_async_engine(
        parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=tls, hide_parameters=True
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def check_database(engine: AsyncEngine) -> str | None:
    from sqlalchemy import text

    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"database unavailable: {type(error).__name__}"
    return None


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware on the way out whatever the backend: SQLite forgets the zone, PostgreSQL keeps it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware values only")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


RowT = TypeVar("RowT", bound=DeclarativeBase)


class SqlStore:
    """Base of the services' stores: one engine, its sessions, its schema, idempotent inserts."""

    metadata: ClassVar[MetaData]
    # Where this service's Alembic history lives ("vigie_<service>:migrations") and its version table.
    migrations: ClassVar[str]
    version_table: ClassVar[str]
    # The service's outbox table, for stores whose changes announce events (see vigie_shared.outbox).
    outbox: ClassVar[type[Any] | None] = None

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.on_staged: Callable[[], None] | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._sessions

    async def migrate(self) -> None:
        from vigie_shared.migrations import upgrade

        await upgrade(self._engine, self.migrations, self.version_table)

    async def insert_absent(
        self, session: AsyncSession, rows: Sequence[DeclarativeBase], key: str = "id"
    ) -> None:
        """Inserts the rows whose key is not stored yet: how a redelivered event stays a no-op."""
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        for row in rows:
            model = type(row)
            # An unset attribute of a NOT NULL column is left out, so its default applies.
            values = {
                column.name: value
                for column in model.__table__.columns
                if (value := getattr(row, column.name)) is not None or column.nullable
            }
            await session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=[key]))

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def settle(
        self,
        model: type[RowT],
        row_id: str,
        *,
        values: dict[str, Any],
        announce: Callable[[RowT], Sequence[Envelope[Keyed]]],
        then: Callable[[AsyncSession, RowT], Awaitable[None]] | None = None,
    ) -> RowT:
        """Moves a pending row to a final state once: the first caller wins, the others get RowSettled.

        The events `announce` returns for the settled row are staged in the outbox, and `then` writes
        whatever else the change creates (jobs), in the same transaction: the change, its
        announcement and its consequences commit together or not at all. The relay publishes the
        events after the commit.
        """
        table = model.__table__
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(model).where(table.c.id == row_id, table.c.status == "pending").values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                current = await session.get(model, row_id)
                if current is None:
                    raise RowNotFound(row_id)
                # Detached before the rollback, which would otherwise expire what the caller reads.
                session.expunge(current)
                raise RowSettled(current)
            row = await session.get(model, row_id, populate_existing=True)
            assert row is not None
            if then is not None:
                await then(session, row)
            await self.stage(session, announce(row))
        self.staged()
        return row

    async def stage(self, session: AsyncSession, events: Sequence[Envelope[Keyed]]) -> None:
        """Stages events in this store's outbox inside the caller's transaction."""
        from vigie_shared.outbox import stage

        if events:
            if self.outbox is None:
                raise TypeError(f"{type(self).__name__} has no outbox table")
            await stage(session, self.outbox, events)

    def staged(self) -> None:
        """Called after a commit that staged events; the app points it at its relay's `notify`."""
        if self.on_staged is not None:
            self.on_staged()


class RowNotFound(LookupError):
    pass


class RowSettled(RuntimeError):
    """Somebody else already moved the row out of pending; `row` is its current state."""

    def __init__(self, row: Any) -> None:
        super().__init__("already settled")
        self.row = row


StoreT = TypeVar("StoreT", bound=SqlStore)


@asynccontextmanager
async def open_store(store_type: type[StoreT], url: str) -> AsyncIterator[StoreT]:
    """A store on its own engine, schema migrated to the newest revision, engine disposed on the way out."""
    engine = create_engine(url)
    try:
        store = store_type(engine)
        await store.migrate()
        yield store
    finally:
        await engine.dispose()


class CommentColumns:
    """The columns that say which comment a stored row is about, and the event reference they make."""

    platform: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(512), index=True)
    thread_id: Mapped[str] = mapped_column(String(512))
    comment_id: Mapped[str] = mapped_column(String(512))
    correlation_id: Mapped[str] = mapped_column(String(64))

    def comment_ref(self) -> CommentRef:
        return CommentRef(
            platform=Platform(self.platform),
            community=self.community,
            thread_id=self.thread_id,
            comment_id=self.comment_id,
        )
