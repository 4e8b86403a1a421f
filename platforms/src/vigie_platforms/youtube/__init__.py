"""youtube: inbound webhooks and outbound API calls."""
