"""What a platform's answer means for a job: done, try again when, or give up. Pure.

Jobs live in the database and outlive processes, so their schedule is data (`next_attempt_at`), not
a retry decorator around a call: the backoff below only computes the next date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from vigie_platforms.outbound.base import Done, Failed, Outcome, RetryAfter
from vigie_shared.events import event_id_for

NO_CREDENTIALS = "no_credentials"
# The person the reply answers asked to be erased before it went out: it is not posted.
ERASED_BEFORE_DELIVERY = "erased_before_delivery"


def reply_job_id(draft_id: str) -> str:
    """One reply job per draft, whichever path (the verdict, its event redelivered) creates it."""
    return event_id_for("job", "reply", draft_id)


def action_job_id(action_id: str) -> str:
    return event_id_for("job", "action", action_id)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    # After this long a reply would arrive too late to help; the job fails and says why.
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int, retry_after: float, rng: random.Random) -> float:
        """Capped exponential backoff with full jitter, never sooner than the platform asked."""
        exponential = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return float(max(retry_after, rng.uniform(0.5, 1.0) * exponential))


class Step(StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Transition:
    step: Step
    reason: str | None = None
    platform_id: str | None = None
    next_attempt_at: datetime | None = None
    ambiguous: bool = False


def transition(
    outcome: Outcome,
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> Transition:
    if isinstance(outcome, Done):
        return Transition(Step.DONE, platform_id=outcome.platform_id)
    if isinstance(outcome, Failed):
        return Transition(Step.FAILED, reason=outcome.reason)
    assert isinstance(outcome, RetryAfter)
    next_at = now + timedelta(seconds=policy.delay(attempts, outcome.seconds, rng))
    if next_at - created_at > policy.give_up_after:
        return Transition(Step.FAILED, reason=f"gave up after {attempts} attempts: {outcome.reason}"[:2000])
    return Transition(Step.RETRY, reason=outcome.reason, next_attempt_at=next_at, ambiguous=outcome.ambiguous)
