# balltrack: `make demo` and `make test` work on a fresh machine (they create .venv first).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup test test-slow demo bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-slow: setup
	$(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS)

demo: setup
	$(BIN)/python jobs/demo.py --out demo_out

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/decode_memory.py
	$(BIN)/python bench/train_tracknet.py
	$(BIN)/python bench/track.py

clean:
	rm -rf demo_out bench/out build .pytest_cache
