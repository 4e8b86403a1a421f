"""discord: inbound webhooks and outbound API calls."""
