from __future__ import annotations

from vigie_shared.service import serve

from vigie_audit.app import create_app
from vigie_audit.settings import AuditSettings


def main() -> None:
    serve(create_app, AuditSettings.load())


if __name__ == "__main__":
    main()
