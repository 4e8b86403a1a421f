"""slack: inbound webhooks and outbound API calls."""
