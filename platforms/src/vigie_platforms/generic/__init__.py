"""generic: inbound webhooks and outbound API calls."""
