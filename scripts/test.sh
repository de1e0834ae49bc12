#!/usr/bin/env bash
# The whole suite against real infrastructure. tests/support/infra.py finds it: KAFKA_BOOTSTRAP +
# MONGO_URL if set, else testcontainers where a Docker engine runs, else the project's own
# Kafka + FerretDB (instance `test`, left running for a fast rerun; `make test-infra-down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
