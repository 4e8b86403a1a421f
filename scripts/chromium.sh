#!/usr/bin/env bash
# Debian's Chromium for the browser tests (the report pages are checked in a real, headless browser).
# Playwright drives it through executable_path=/usr/bin/chromium; it never downloads a browser of its own.
#   chromium.sh            installs it when missing (as root, or says what to run), prints the path
set -euo pipefail

bin=/usr/bin/chromium
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
die() { echo "chromium.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "Chromium is not installed and this is not root: run 'sudo apt-get install -y chromium'"
command -v apt-get >/dev/null || die "Chromium is not installed and apt-get is not available"
echo "chromium.sh: installing Debian's chromium package" >&2
apt-get update -qq || die "apt-get update failed"
# Fonts so text in screenshots is legible; the package alone pulls only a minimal set.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null \
  || die "apt-get install chromium failed"
[ -x "$bin" ] || die "the chromium package did not provide $bin"
echo "$bin"
