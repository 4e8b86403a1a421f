from __future__ import annotations

from vigie_shared.service import serve

from vigie_responder.app import create_app
from vigie_responder.settings import ResponderSettings


def main() -> None:
    serve(create_app, ResponderSettings.load())


if __name__ == "__main__":
    main()
