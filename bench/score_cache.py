"""How often the moderator's score cache would hit on real comment streams (issue 12, speed).

    uv run python bench/score_cache.py [--size 20000] [--timed 600]

Streams, in their order of arrival where the corpus has one: the three YouTube comment
files of ../shared/data (sorted by date, each video a stream, then all three interleaved by
date), the SMS collection (file order), and the English tweets of Davidson et al. (file
order, which is not arrival order). For each: the share of comments an LRU of `--size`
entries answers, keyed as shipped (the NFC text, exactly) and keyed loosely (case folded,
whitespace collapsed: what a looser key would add; it is not shipped because case and
spacing change the scores). Then `EncoderScorer.score_only` is timed over the first `--timed`
comments of the interleaved YouTube stream, twice: the second pass is all cache hits, which gives
the cost of a hit against the cost of a miss in one run.
Only counts and rates are printed, never a text.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from vigie_moderator.adapters.encoder_scorer import EncoderScorer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def exact(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def loose(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def hit_rate(texts: Iterable[str], key: Callable[[str], str], size: int) -> tuple[int, int]:
    cache: OrderedDict[str, None] = OrderedDict()
    hits = total = 0
    for text in texts:
        total += 1
        k = key(text)
        if k in cache:
            hits += 1
            cache.move_to_end(k)
        else:
            cache[k] = None
            if len(cache) > size:
                cache.popitem(last=False)
    return hits, total


def youtube() -> dict[str, list[tuple[str, str]]]:
    streams = {}
    for path in sorted((DATA / "youtube-spam-collection-en").glob("Youtube*.csv")):
        with path.open(encoding="utf-8") as fh:
            rows = [(r["DATE"] or "", r["CONTENT"]) for r in csv.DictReader(fh)]
        streams[path.stem] = sorted(rows, key=lambda r: r[0])
    return streams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--timed", type=int, default=600)
    args = parser.parse_args()
    by_video = youtube()
    interleaved = [text for _, text in sorted(r for rows in by_video.values() for r in rows)]
    streams: dict[str, list[str]] = {
        f"YouTube {name}": [t for _, t in rows] for name, rows in by_video.items()
    }
    streams["YouTube, three videos interleaved by date"] = interleaved
    with (DATA / "sms-spam-collection-en" / "SMSSpamCollection").open(encoding="utf-8") as fh:
        streams["SMS collection"] = [line.split("\t", 1)[1].rstrip("\n") for line in fh if "\t" in line]
    with (DATA / "davidson-hate-offensive-en" / "labeled_data.csv").open(encoding="utf-8") as fh:
        streams["Davidson tweets (en)"] = [r["tweet"] for r in csv.DictReader(fh)]

    print(f"LRU of {args.size:,} entries; load average {os.getloadavg()[0]:.2f}\n")
    print("| stream | comments | hits, exact NFC key (shipped) | hits, case/space-folded key |")
    print("|---|---:|---:|---:|")
    for name, texts in streams.items():
        h_exact, total = hit_rate(texts, exact, args.size)
        h_loose, _ = hit_rate(texts, loose, args.size)
        print(f"| {name} | {total:,} | {h_exact / total:.1%} | {h_loose / total:.1%} |")

    timed = interleaved[: args.timed]
    scorer = EncoderScorer.load(cache_size=args.size)
    scorer.score_only(["warm-up"])
    rates = []
    for _ in range(2):  # first pass: misses (and the stream's own repeats); second: all hits
        started = time.perf_counter()
        for i in range(0, len(timed), 32):
            scorer.score_only(timed[i : i + 32])
        rates.append(len(timed) / (time.perf_counter() - started))
    miss, hit = rates
    print(f"\nEncoderScorer.score_only over the first {len(timed)} interleaved YouTube comments, batch 32")
    print(f"(load average {os.getloadavg()[0]:.2f} at the end): first pass {miss:,.0f} texts/s,")
    print(f"the same texts again (every one a hit) {hit:,.0f} texts/s. With hit share h the consumer's")
    print("scoring runs at about 1 / ((1 - h) / encoder + h / hit):")
    for h in (0.07, 0.09, 0.22, 0.5, 0.7):
        print(
            f"- h = {h:.0%}: {1 / ((1 - h) / miss + h / hit):,.0f} texts/s ({1 / ((1 - h) + h * miss / hit):.2f}x)"
        )


if __name__ == "__main__":
    main()
