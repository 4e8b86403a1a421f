"""Rebuild every model artifact from shared/data, then score the functional cases.

    uv run python -m training.build_all      (what `make models` runs)

Order matters: the toxicity report scores the profanity baseline, and the
functional cases need every artifact. The responder's intent head reads the
shared encoder's embeddings, so the encoder must be built (`make encoder`).
Fixed seeds; about 3-4 minutes on 2 cores.
The language-identifier comparison needs extra packages and runs separately:
see training/language_bench.py.
"""

from __future__ import annotations

import time

from training import export_profanity, functional, intent, kb_retrieval, sentiment, spam, toxicity
from training.common import log, setup_logging


def main() -> None:
    setup_logging()
    started = time.monotonic()
    for step in (export_profanity, toxicity, spam, sentiment, intent, kb_retrieval, functional):
        step_started = time.monotonic()
        step.main()
        log.info("%s done in %.0fs", step.__name__, time.monotonic() - step_started)
    log.info("all models rebuilt in %.0fs", time.monotonic() - started)


if __name__ == "__main__":
    main()
