# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv itself and installs what it needs, on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export MPLBACKEND := Agg

.PHONY: demo test lint typecheck pytest bench clean course course-html

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

# tests/test_course.py runs every lesson (inline backend, then with the solutions).
pytest: $(VENV)/.dev-installed
	$(BIN)/pytest tests

$(VENV)/.course-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[course]'
	touch $@ $(VENV)/.run-installed

# JupyterLab on the lessons, with Jupyter's own inline backend (not the Agg exported above).
course: $(VENV)/.course-installed
	env -u MPLBACKEND $(BIN)/jupyter lab notebooks

# Every lesson executed, as static HTML with embedded pictures, in site/course/.
# Reuses build/executed/ (written by the course test) when it is newer than the lesson.
course-html: $(VENV)/.course-installed
	env -u MPLBACKEND $(BIN)/python -m microgrid.course html notebooks site/course

bench: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache microgrid-demo build/executed site/course
