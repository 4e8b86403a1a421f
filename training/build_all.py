"""Rebuild every model artifact from shared/data, then score the functional cases.

    uv run python -m training.build_all      (what `make models` runs)

Order matters: the toxicity report scores the profanity baseline, the heads need
the encoder (built by `make encoder`, which `make models` runs first) and the
embeddings cache (training.embeddings: ~10-20 minutes on 2 cores the first time,
seconds once cached), leave-one-corpus-out needs the heads' chosen C, and the
functional cases need every artifact. The n-gram models are rebuilt too: they are
the baseline every new figure is compared with. The responder's intent head and
retrieval parameters read the same encoder. Fixed seeds.
The language-identifier comparison needs extra packages and runs separately:
see training/language_bench.py.
"""

from __future__ import annotations

import time

from training import (
    embeddings,
    export_profanity,
    functional,
    heads,
    intent,
    kb_retrieval,
    loco,
    sentiment,
    spam,
    toxicity,
)
from training.common import log, setup_logging


def main() -> None:
    setup_logging()
    started = time.monotonic()
    for step in (
        export_profanity,
        toxicity,
        spam,
        sentiment,
        embeddings,
        heads,
        loco,
        intent,
        kb_retrieval,
        functional,
    ):
        step_started = time.monotonic()
        step.main()
        log.info("%s done in %.0fs", step.__name__, time.monotonic() - step_started)
    log.info("all models rebuilt in %.0fs", time.monotonic() - started)


if __name__ == "__main__":
    main()
