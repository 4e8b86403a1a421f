"""One folder per platform, holding both directions: what arrives (signature check, normalisation) and
what Vigie sends back (replies, hide, delete). Services reach a platform only through this package."""
