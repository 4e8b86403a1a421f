from __future__ import annotations

from vigie_shared.service import serve

from vigie_console.app import create_app
from vigie_console.settings import ConsoleSettings


def main() -> None:
    serve(create_app, ConsoleSettings.load())


if __name__ == "__main__":
    main()
