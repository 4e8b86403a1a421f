"""`make run`: the four services on the embedded bus and SQLite, until Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVICES = ("ingest", "moderator", "responder", "audit")


def load_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def main() -> int:
    dev_env = Path("var/dev.env")
    # The file fills gaps only: anything already exported wins, as CONTRACT.md promises.
    env = {**load_env_file(dev_env), **os.environ} if dev_env.exists() else dict(os.environ)
    env.setdefault("VIGIE_BUS_URL", "sqlite:///var/bus.db")
    children: dict[str, subprocess.Popen[bytes]] = {}
    for service in SERVICES:
        children[service] = subprocess.Popen([sys.executable, "-m", f"vigie_{service}"], env=env)  # noqa: S603 - our own modules
    print(
        "Vigie is starting: ingest :8001, moderator :8002, responder :8003, audit :8004 "
        f"(bus {env['VIGIE_BUS_URL']}). Admin token: see VIGIE_DEV_ADMIN_TOKEN in {dev_env.resolve()}. "
        "Ctrl-C stops everything.",
        file=sys.stderr,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for service, child in children.items():
            if child.poll() is not None:
                print(f"{service} exited with {child.returncode}; stopping the others", file=sys.stderr)
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.3)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
