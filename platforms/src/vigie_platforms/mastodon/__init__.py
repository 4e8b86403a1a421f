"""mastodon: inbound webhooks and outbound API calls."""
