"""Generates the committed JSON Schemas: `python -m vigie_shared.events.schemas [--check]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vigie_shared.events import registered

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "schemas"


def render_all() -> dict[str, str]:
    out: dict[str, str] = {}
    for event_type, model in sorted(registered().items()):
        schema = model.model_json_schema()
        schema["$id"] = model.schema_uri()
        schema["x-vigie-event-type"] = event_type
        name = f"v{model.schema_version}/{event_type}.json"
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_all().items():
        path = args.dir / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if stale:
        print("stale schemas, run `make schemas`:", ", ".join(stale), file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
