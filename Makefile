# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv itself and installs what it needs, on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export MPLBACKEND := Agg

.PHONY: demo test test-fast lint typecheck pytest test-cpu-portable bench clean dist docs course course-html lite

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

# The docs extra comes first: the wheel and docs tests in pytest need build, twine, mkdocs.
test: $(VENV)/.docs-installed lint typecheck pytest test-cpu-portable docs

PY_DIRS := $(wildcard microgrid tests benchmarks docs lite)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy microgrid

# tests/course/test_course.py runs every lesson (inline backend, then with the solutions); the
# browser test of the lite site (tests/lite/) needs the site built first.
pytest: $(VENV)/.dev-installed lite
	$(BIN)/pytest tests

# The compile tests again with numpy's AVX-512 kernels off and OpenBLAS as on a Haswell:
# numpy's sums then run in another order, and the replay must still agree with eager
# (the suite must not depend on the CPU it runs on). The names are numpy's own, for
# this CPU (tests/compiler/avx512.py); tests/compiler checks that they took effect.
test-cpu-portable: $(VENV)/.dev-installed
	NPY_DISABLE_CPU_FEATURES="$$($(BIN)/python tests/compiler/avx512.py)" \
	OPENBLAS_CORETYPE=Haswell $(BIN)/pytest tests/compiler

# Everything but the tests marked slow (course, docs, wheel, browser): a minute, not several.
test-fast: $(VENV)/.dev-installed
	$(BIN)/pytest -m "not slow" tests

$(VENV)/.course-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[course]'
	touch $@ $(VENV)/.run-installed

# JupyterLab on the lessons, with Jupyter's own inline backend (not the Agg exported above).
course: $(VENV)/.course-installed
	env -u MPLBACKEND $(BIN)/jupyter lab notebooks

# Every lesson executed, as static HTML with its pictures embedded, in build/course-html/:
# the student's pages (no regression checks; a note where a live widget needs a kernel).
# One builder, microgrid.course.html, which the docs site's course pages share; it reuses
# build/executed/ (written by the course test) when newer than the lesson. Without make:
# python -m microgrid.course html notebooks build/course-html
course-html: $(VENV)/.course-installed
	env -u MPLBACKEND $(BIN)/python -m microgrid.course html notebooks build/course-html

# The course as a static JupyterLite site in build/lite-site/ (docs/lite.md): Pyodide from
# npm, wheels from PyPI, cached in .registry-cache/; rebuilt when its inputs change.
$(VENV)/.lite-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lite]'
	touch $@ $(VENV)/.run-installed

LITE_INPUTS := pyproject.toml $(shell find lite microgrid notebooks -type f -not -name '*.pyc')

build/lite-site/index.html: $(LITE_INPUTS) | $(VENV)/.lite-installed
	$(BIN)/python lite/build.py

lite: build/lite-site/index.html

# Every speed against its limit, each in the same run as its limit (BENCHMARKS.md): the demo
# step (micrograd, eager, compiled, numpy, torch), eager against the plain-float floors, and
# its phases (and BASELINE, a git ref, when given), compile against hand-written numpy, the
# Hessian against torch. numpy and torch on one thread, as the limits are stated.
BASELINE ?=
bench: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	uptime
	$(BIN)/python benchmarks/run_all.py
	$(BIN)/python benchmarks/floor.py --rounds 7 $(if $(BASELINE),--baseline $(BASELINE))
	$(BIN)/python benchmarks/floor.py --phases --rounds 3 $(if $(BASELINE),--baseline $(BASELINE))
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/compile_step.py --rounds 11
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/higher.py --repeats 9 --activation tanh
	uptime

# The docs site and the distributions (see docs/build_site.py and tests/docs/test_wheel.py).
# Over the dev extra: a lesson missing from build/executed is executed, and lessons use torch.
$(VENV)/.docs-installed: pyproject.toml $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,dist]'
	touch $@

# mkdocs build --strict into site/; the lessons come executed from build/executed/ (written
# by the course test), executed here only when missing or older than the notebook. Skipped
# when site/ is already built from the same inputs (the docs tests in `pytest` build it).
docs: $(VENV)/.docs-installed
	$(BIN)/python docs/build_site.py

dist: $(VENV)/.docs-installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache microgrid-demo site build dist
# (.registry-cache/, the lite and docs builds' downloads, is kept: rm -rf it to fetch again)
