#!/usr/bin/env bash
# `make bench`: a fresh Kafka + FerretDB (instance bench), then bench/ (`python -m bench`). Figures are printed
# and written to bench-results/. ARGS="--rate 30 --duration 30" tunes the saturation phase.
set -euo pipefail
cd "$(dirname "$0")/.."
export AFTERSALE_KAFKA_JMX_PORT="${AFTERSALE_KAFKA_JMX_PORT:-19299}"  # bench/broker.py reads the request counts
eval "$(AFTERSALE_INSTANCE=bench infra/scripts/up.sh --fresh)"
export KAFKA_BOOTSTRAP MONGO_URL
.venv/bin/aftersale topics ensure
trap 'AFTERSALE_INSTANCE=bench infra/scripts/down.sh >/dev/null 2>&1 || true' EXIT
.venv/bin/python -m bench "$@"
