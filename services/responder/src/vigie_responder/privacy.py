"""What the responder erases for a privacy request, and purges when retention runs out.

Works on the `responder_drafts` table by column name (Core, not the ORM class), so it keeps
working while the store module changes. Wiring, in the app's lifespan once the store and the bus
runtime are open:

    from functools import partial
    from vigie_shared.privacy import start_erasure_consumer
    from vigie_shared.retention import RetentionJob
    from vigie_responder.privacy import erase_subject, purge_expired

    start_erasure_consumer(runtime, service="responder", group=settings.group,
                           erase=partial(erase_subject, store.engine), metrics=metrics)
    retention = RetentionJob("responder", partial(purge_expired, store.engine),
                             settings.retention_days, interval=settings.retention_interval_seconds)
    retention.start()   # and `await retention.stop()` on the way out
"""

from __future__ import annotations

from sqlalchemy import String, Text, and_, column, select, table, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from vigie_shared.db import UtcDateTime
from vigie_shared.privacy import ERASED_PSEUDONYM, ERASED_TEXT
from vigie_shared.retention import Cutoffs
from vigie_shared.wipe import truncate_wal, zero_on_delete

EXPIRED_TEXT = "[expired]"

drafts = table(
    "responder_drafts",
    column("platform", String),
    column("community", String),
    column("author_pseudonym", String),
    column("comment_text", Text),
    column("text", Text),
    column("final_text", Text),
    column("reject_reason", Text),
    column("created_at", UtcDateTime()),
    column("id", String),
)
jobs = table("responder_jobs", column("draft_id", String), column("text", Text))


async def erase_subject(engine: AsyncEngine, platform: str, pseudonym: str) -> dict[str, int]:
    """Blanks the comment, the draft written from it and any edited or rejected text, for one person.

    The draft's own text goes too: it was written from the comment and may quote it; so does the
    copy its reply job keeps, which also stops a reply not posted yet (the dispatcher fails a job
    whose text was erased instead of posting it).
    """
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        await zero_on_delete(session)
        theirs = select(drafts.c.id).where(
            drafts.c.platform == platform, drafts.c.author_pseudonym == pseudonym
        )
        jobs_erased = await session.execute(
            update(jobs).where(jobs.c.draft_id.in_(theirs), jobs.c.text.is_not(None)).values(text=ERASED_TEXT)
        )
        result = await session.execute(
            update(drafts)
            .where(drafts.c.platform == platform, drafts.c.author_pseudonym == pseudonym)
            .values(
                comment_text=ERASED_TEXT,
                text=ERASED_TEXT,
                final_text=None,
                reject_reason=None,
                author_pseudonym=ERASED_PSEUDONYM,
            )
        )
        erased = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await truncate_wal(engine)
    return {"responder_drafts": erased, "responder_jobs": int(jobs_erased.rowcount or 0)}  # type: ignore[attr-defined]


async def purge_expired(engine: AsyncEngine, cutoffs: Cutoffs) -> dict[str, int]:
    """Blanks the quoted comment of drafts past their community's retention; the reply itself stays."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        await zero_on_delete(session)
        result = await session.execute(
            update(drafts)
            .where(
                and_(
                    cutoffs.expired(drafts.c.community, drafts.c.created_at),
                    drafts.c.comment_text.not_in([EXPIRED_TEXT, ERASED_TEXT]),
                )
            )
            .values(comment_text=EXPIRED_TEXT)
        )
        purged = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if purged:
        await truncate_wal(engine)
    return {"responder_drafts": purged}
