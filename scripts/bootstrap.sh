#!/usr/bin/env bash
# Makes sure uv exists and the workspace environment matches uv.lock. Safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
if ! command -v uv >/dev/null 2>&1; then
  if [ -x "$HOME/.local/bin/uv" ]; then
    export PATH="$HOME/.local/bin:$PATH"
  else
    echo "bootstrap: installing uv $UV_VERSION from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
fi
# pip may put the uv binary where no shim points yet; the module form always works.
if command -v uv >/dev/null 2>&1; then uv_cmd=(uv); else uv_cmd=(python3 -m uv); fi
"${uv_cmd[@]}" sync --frozen --all-packages --quiet "$@"
