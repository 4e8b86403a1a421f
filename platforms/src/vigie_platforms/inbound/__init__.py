"""Inbound: what every platform's webhook side shares.

`connector` (the interface and `receive`), `registry` (unique names, discovery), `signatures`,
`payload` (hardened JSON), `normalise` (helpers that build `comment.received`), `outcome` and
`errors`. Each platform's own part lives in `vigie_platforms/<platform>/inbound.py`.
"""
