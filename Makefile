# Aftersale: two commands for a fresh machine.
#   make run    set up, start Kafka + FerretDB + the four services, play a dispute, follow it live
#   make test   set up, start the test infrastructure, run the whole suite against it
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: run test setup infra-up infra-down infra-status test-infra-down bench simulate export clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh $(ARGS)

test: setup
	@scripts/test.sh $(ARGS)

bench: setup
	@scripts/bench.sh $(ARGS)

# The whole platform in one process: random worlds until N disputes or a broken invariant.
SEED ?= 1
N ?= 100000
simulate: setup
	@$(PY) -m sim.platform --seed $(SEED) --disputes $(N) --jobs 2 $(ARGS)

infra-up:
	@AFTERSALE_INSTANCE=dev infra/scripts/up.sh

infra-down:
	@AFTERSALE_INSTANCE=dev infra/scripts/down.sh

infra-status:
	@AFTERSALE_INSTANCE=dev infra/scripts/status.sh

test-infra-down:
	@AFTERSALE_INSTANCE=test infra/scripts/down.sh

export: setup
	@$(PY) -m contracts.export

clean:
	rm -rf .run .pytest_cache
