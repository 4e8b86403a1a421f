"""facebook: inbound webhooks and outbound API calls."""
