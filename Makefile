# One command to set up and run the demo, one to set up and run the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORE := $(VENV)/.installed-core
SERVE := $(VENV)/.installed-serve
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup demo serve test test-all fuzz mutate lint typecheck train eval bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# torch only from the local CPU wheel (pinned spec); needed by the training extra and its tests.
	$(BIN)/pip install "torch==2.13.0"
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP) $(CORE)

# The demo needs only the runtime (no torch); tests, training and benchmarks need the dev extras.
$(CORE): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e .
	touch $(CORE)

setup: $(STAMP)

# the web page and API: the runtime + the [serve] extra (no torch), then `hhpnet serve`
$(SERVE): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[serve]"
	touch $(SERVE)

# `pip install ".[extra]"` (without -e) in .venv replaces the editable install with a copy of
# src/ that edits no longer reach: put the editable install back before testing.
EDITABLE = $(BIN)/python -c "import hhpnet, os, sys; sys.exit(not os.path.realpath(hhpnet.__file__).startswith(os.path.realpath('src') + os.sep))" 2>/dev/null || $(BIN)/pip install -e ".[dev]"

demo: $(CORE)
	$(BIN)/hhpnet demo

# prints the page's URL (http://127.0.0.1:8000/ by default; HOST=… PORT=… to change)
serve: $(SERVE)
	$(BIN)/hhpnet serve --host $(HOST) --port $(PORT)

# the default suite: everything but the tests marked slow (`make test-all` runs those too)
test: $(STAMP)
	@$(EDITABLE)
	$(BIN)/python -m pytest -m "not slow"

test-all: $(STAMP)
	@$(EDITABLE)
	$(BIN)/python -m pytest

# property-based tests with the large hypothesis profile (>= 10,000 examples per property)
fuzz: $(STAMP)
	@$(EDITABLE)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -m fuzz

# plant the bugs listed in tools/mutate.py one at a time (in a copy of the tree): >= 95 % must
# make their tests fail (docs/testing.md)
mutate: $(STAMP)
	@$(EDITABLE)
	$(BIN)/python tools/mutate.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy

train: $(STAMP)
	for c in hhpnet-1.0 hhpnet-0.6 hhpnet-0.2; do $(BIN)/hhpnet train --config configs/$$c.yaml || exit 1; done

eval: $(STAMP)
	$(BIN)/hhpnet eval --model hhpnet-1.0

bench: $(STAMP)
	$(BIN)/hhpnet bench

clean:
	rm -rf $(VENV) hhpnet-demo .pytest_cache .mypy_cache .ruff_cache
