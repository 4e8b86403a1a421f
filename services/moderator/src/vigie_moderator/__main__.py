from __future__ import annotations

from vigie_shared.service import serve

from vigie_moderator.app import create_app
from vigie_moderator.settings import ModeratorSettings


def main() -> None:
    serve(create_app, ModeratorSettings.load())


if __name__ == "__main__":
    main()
