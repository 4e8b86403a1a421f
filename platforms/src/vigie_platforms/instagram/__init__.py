"""instagram: inbound webhooks and outbound API calls."""
