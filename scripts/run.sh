#!/usr/bin/env bash
# `make run`: Kafka + FerretDB (instance dev), the four services, the demo, then live events
# until Ctrl-C, which stops the services and the infrastructure.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(AFTERSALE_INSTANCE=dev infra/scripts/up.sh)"
export KAFKA_BOOTSTRAP MONGO_URL
.venv/bin/aftersale topics ensure
cleanup() { AFTERSALE_INSTANCE=dev infra/scripts/down.sh || true; }
trap cleanup EXIT
# The runner in the background, so that a signal reaches this script at once: it passes it on,
# waits for the services to stop, and only then stops the infrastructure (EXIT).
.venv/bin/python -m ops.runner "$@" &
runner=$!
trap 'kill -TERM "$runner" 2>/dev/null; wait "$runner"; exit 130' INT TERM
wait "$runner"
