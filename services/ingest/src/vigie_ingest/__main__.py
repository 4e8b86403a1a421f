from __future__ import annotations

import uvicorn
from vigie_shared.logging import configure_logging

from vigie_ingest.app import create_app
from vigie_ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings.load()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
