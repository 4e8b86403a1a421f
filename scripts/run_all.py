"""`make run`: the four services and the console on the embedded bus and SQLite, until Ctrl-C stops them.

    run_all.py [--port SERVICE=PORT ...]

Each process gets its own `VIGIE_PORT`; the console is told where the others listen unless
`VIGIE_<SERVICE>_URL` is already set. Tests start it with free ports in a scratch directory.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PORTS = {"ingest": 8001, "moderator": 8002, "responder": 8003, "audit": 8004, "console": 8000}
SERVICES = tuple(PORTS)


def load_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def parse_ports(argv: list[str] | None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", action="append", default=[], metavar="SERVICE=PORT")
    ports = dict(PORTS)
    for item in parser.parse_args(argv).port:
        service, _, port = item.partition("=")
        if service not in PORTS or not port.isdigit():
            parser.error(f"--port wants SERVICE=PORT with SERVICE in {', '.join(PORTS)}: {item!r}")
        ports[service] = int(port)
    return ports


def main(argv: list[str] | None = None) -> int:
    ports = parse_ports(argv)
    dev_env = Path("var/dev.env")
    # The file fills gaps only: anything already exported wins, as CONTRACT.md promises.
    env = {**load_env_file(dev_env), **os.environ} if dev_env.exists() else dict(os.environ)
    env.setdefault("VIGIE_BUS_URL", "sqlite:///var/bus.db")
    for service in SERVICES:
        if service != "console":
            env.setdefault(f"VIGIE_{service.upper()}_URL", f"http://127.0.0.1:{ports[service]}")
    children: dict[str, subprocess.Popen[bytes]] = {}
    for service in SERVICES:
        children[service] = subprocess.Popen(  # noqa: S603 - our own modules
            [sys.executable, "-m", f"vigie_{service}"], env={**env, "VIGIE_PORT": str(ports[service])}
        )
    listening = ", ".join(f"{service} :{port}" for service, port in ports.items() if service != "console")
    print(
        f"Vigie is starting: {listening} (bus {env['VIGIE_BUS_URL']}). "
        f"Console: http://127.0.0.1:{ports['console']}/ (sign in with VIGIE_DEV_ADMIN_TOKEN from "
        f"{dev_env.resolve()}). Ctrl-C stops everything.",
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
