PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install up test fuzz bench scale lint demo clean

# The bots' client (clients/python) is a package of its own, which the demo uses: installed from here, with the rest.
CLIENT := clients/python

$(STAMP): pyproject.toml $(CLIENT)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e $(CLIENT) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e $(CLIENT) -e '.[dev,bench]'
	touch $(BENCH_STAMP)

## Start the whole embedded stack (Temporal dev server, worker, API, console) with demo data.
up: $(STAMP)
	$(BIN)/warm-transfer up

## Install and run the whole test suite.
test: $(STAMP)
	$(BIN)/python -m tests.run

## schemathesis against the real API with a fresh seed: 25 valid and 25 invalid requests per operation, over 1,000
## in all (`make test` runs as many, derandomized).
fuzz: $(STAMP)
	WT_API_FUZZ_RANDOM=1 $(BIN)/python -m tests.run -rP tests/e2e/test_api_fuzz.py

## Install the benchmarks' extra, then run every benchmark once (about 50 minutes): results and plots in bench/results/.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.first_task
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.floor
	$(BIN)/python -m bench.history_size
	$(BIN)/python -m bench.open_transfers
	$(BIN)/python -m bench.gc_pauses
	$(BIN)/python -m bench.routing
	$(BIN)/python -m bench.triggers.accuracy
	$(BIN)/python -m bench.chaos
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.plots

## Two APIs and two workers on PostgreSQL, as on several hosts: tests/scale at full size, 100 arrivals through every
## branch with a worker killed halfway (about 4 minutes); its figures in bench/results/scale.json.
scale: $(STAMP)
	WT_SCALE_TRANSFERS=100 $(BIN)/python -m tests.run -n 0 -rA tests/scale

## ruff, and the layer contracts of pyproject.toml's [tool.importlinter].
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

demo: $(STAMP)
	$(BIN)/warm-transfer demo

clean:
	rm -rf $(VENV) .data .pytest_cache
