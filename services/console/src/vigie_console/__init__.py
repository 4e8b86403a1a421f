"""The moderators' console: static pages plus a same-origin proxy to the services' APIs."""
