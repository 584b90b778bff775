# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv itself and installs what it needs, on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export MPLBACKEND := Agg

.PHONY: demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The stamps re-install when pyproject.toml changes.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run-installed

demo: $(VENV)/.run-installed
	$(BIN)/python -m microgrid demo
	@echo "The microgrid command is in $(BIN): run $(BIN)/microgrid --help, or activate the venv first (. $(BIN)/activate) and run microgrid --help."

test: lint typecheck pytest

PY_DIRS := $(wildcard microgrid tests benchmarks)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy microgrid

pytest: $(VENV)/.dev-installed
	$(BIN)/pytest tests --nbmake notebooks

bench: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache microgrid-demo
