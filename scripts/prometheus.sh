#!/usr/bin/env bash
# Installs the Prometheus that Debian packages (promtool and the server), for the rule and scrape tests.
# `scripts/prometheus.sh install` is idempotent; `scripts/prometheus.sh check` says what is there.
set -euo pipefail

have() { command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; }

case "${1:-install}" in
  install)
    if have; then exit 0; fi
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "prometheus.sh: apt-get not found; install promtool and prometheus 2.x by hand" >&2
      exit 1
    fi
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    # --no-install-recommends: the node exporter and friends are not needed for tests.
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # The package starts a system-wide server on :9090 where systemd runs; tests start their own.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      "${as_root[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    have
    ;;
  check)
    promtool --version 2>&1 | head -1
    ;;
  *)
    echo "usage: $0 [install|check]" >&2
    exit 2
    ;;
esac
