PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up test lint demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the whole embedded stack (Temporal dev server, worker, API, console) with demo data.
up: $(STAMP)
	$(BIN)/warm-transfer up

## Install and run the whole test suite.
test: $(STAMP)
	$(BIN)/python -m tests.run

## ruff, and the layer contracts of pyproject.toml's [tool.importlinter].
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

demo: $(STAMP)
	$(BIN)/warm-transfer demo

clean:
	rm -rf $(VENV) .data .pytest_cache
