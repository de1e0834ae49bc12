# Aftersale: two commands for a fresh machine.
#   make run    set up, start Kafka + FerretDB + the four services, play a dispute, follow it live
#   make test   set up, start the test infrastructure, run the whole suite against it
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: run test test-cluster setup infra-up infra-down infra-status test-infra-down bench simulate export clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh $(ARGS)

test: setup
	@scripts/test.sh $(ARGS)

# Three brokers, 6 partitions of 3 replicas (2 in sync): a broker lost mid-stream, three replicas of
# each service (tests/cluster). Its own instance `cluster`, stopped afterwards.
# A stream of 40 disputes (24 s) outlasts the broker's loss and return.
CLUSTER_ENV := AFTERSALE_INSTANCE=cluster AFTERSALE_KAFKA_BROKERS=3 AFTERSALE_PARTITIONS=6 \
	AFTERSALE_REPLICATION_FACTOR=3 AFTERSALE_MIN_INSYNC_REPLICAS=2 AFTERSALE_CRASH_DISPUTES=40
test-cluster: setup
	@$(CLUSTER_ENV) scripts/test.sh tests/cluster $(ARGS); rc=$$?; \
	AFTERSALE_INSTANCE=cluster infra/scripts/down.sh >/dev/null 2>&1; exit $$rc

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
