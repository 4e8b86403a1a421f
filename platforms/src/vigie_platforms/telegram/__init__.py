"""telegram: inbound webhooks and outbound API calls."""
