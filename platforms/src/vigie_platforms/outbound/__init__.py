"""Outbound calls: typed outcomes, credentials, limits and the per-platform clients registry."""
