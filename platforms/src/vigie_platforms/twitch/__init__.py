"""twitch: inbound webhooks and outbound API calls."""
