# raiwatch — two commands: `make demo` and `make test`. Both build .venv from scratch.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/raiwatch demo

test: $(STAMP)
	$(VENV)/bin/ruff check monitor rai jobs dashboards tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check monitor rai jobs dashboards tests bench
	$(VENV)/bin/ruff format --check monitor rai jobs dashboards
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/drift_vs_evidently.py

clean:
	rm -rf $(VENV) .raiwatch .pytest_cache .mypy_cache
