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
trap 'exit 130' INT TERM
.venv/bin/python -m ops.runner "$@"
