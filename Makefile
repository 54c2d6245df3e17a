# awsguard developer tasks.  `make` alone lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help install test demo lint fmt bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## create .venv with awsguard (editable) and the dev tools; idempotent

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

test: install ## run every test
	$(PY) -m pytest

demo: install ## the field report through the shim: real aws, local STS, the block, the fix
	$(PY) tests/demo/demo.py

lint: install ## ruff, mypy --strict on the package
	$(VENV)/bin/ruff check awsguard tests
	$(VENV)/bin/ruff format --check awsguard tests
	$(VENV)/bin/mypy

fmt: install ## format and auto-fix
	$(VENV)/bin/ruff format awsguard tests
	$(VENV)/bin/ruff check --fix awsguard tests

bench: install ## benchmarks: ratios measured side by side in one run
	$(PY) tests/bench/bench.py

clean: ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
