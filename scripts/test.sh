#!/usr/bin/env bash
# The whole suite against real infrastructure. tests/support/infra.py finds it: KAFKA_BOOTSTRAP +
# MONGO_URL if set, else testcontainers where a Docker engine runs, else the project's own
# Kafka + FerretDB (instance `test`, left running for a fast rerun; `make test-infra-down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
# The deployment test validates docker-compose.yml with Debian's docker-compose (no engine needed).
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[test] installing Debian's docker-compose to validate docker-compose.yml" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq docker-compose >/dev/null
fi
# The workbench's browser tests drive Debian's chromium (Playwright never downloads a browser here).
# A CJK font, so that its pages (and the README's screenshot) show Chinese, not boxes.
if { ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[test] installing Debian's chromium and a Chinese font for the workbench's browser tests" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; } >/dev/null
fi
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
