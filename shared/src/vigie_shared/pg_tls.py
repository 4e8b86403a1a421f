"""PostgreSQL over TLS with libpq's URL parameters, which asyncpg does not read from a URL.

`VIGIE_DATABASE_URL=postgresql+asyncpg://vigie:...@db:5432/vigie?sslmode=verify-full&sslrootcert=/ca.pem`
works as it would with psql: `sslmode` (disable, allow, prefer, require, verify-ca, verify-full),
`sslrootcert` (the CA file), and `sslcert`/`sslkey` for a client certificate. They are taken out of
the URL and turned into the `ssl` argument asyncpg takes.
"""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy.engine import URL

LIBPQ_SSL = ("sslmode", "sslrootcert", "sslcert", "sslkey")
MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def split_ssl(url: URL) -> tuple[URL, dict[str, Any]]:
    """The URL without libpq's TLS parameters, and the connect arguments they stand for."""
    query = dict(url.query)
    if not any(name in query for name in LIBPQ_SSL):
        return url, {}
    values = {name: query.pop(name, None) for name in LIBPQ_SSL}
    if any(isinstance(v, tuple) for v in values.values()):
        raise ValueError("TLS parameters of the database URL may be given once each")
    mode = str(values["sslmode"] or "prefer")
    if mode not in MODES:
        raise ValueError(f"sslmode must be one of {', '.join(MODES)}, got {mode!r}")
    root, cert, key = (values[n] for n in ("sslrootcert", "sslcert", "sslkey"))
    if (cert is None) != (key is None):
        raise ValueError("sslcert and sslkey go together")
    rest = url.set(query=query)
    if mode == "disable":
        return rest, {"ssl": False}
    if root is None and cert is None and mode in ("allow", "prefer", "require"):
        return rest, {"ssl": mode}
    context = ssl.create_default_context(cafile=str(root) if root is not None else None)
    if cert is not None:
        context.load_cert_chain(str(cert), str(key))
    # As libpq: with a root certificate, require verifies the chain like verify-ca does.
    context.check_hostname = mode == "verify-full"
    if mode in ("allow", "prefer") and root is None:
        context.verify_mode = ssl.CERT_NONE
    return rest, {"ssl": context}
