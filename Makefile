# awsguard developer tasks.  `make` alone lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Exact versions of the whole dev install and of the build backend (see its header).
LOCK := constraints.txt
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help install update-deps test test-fast lint fmt demo bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## create .venv: awsguard (editable) and the dev tools at the versions in constraints.txt; idempotent

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c $(LOCK) pip
	$(PIP) install --quiet -c $(LOCK) --build-constraint $(LOCK) -e '.[dev]'
	@touch $(STAMP)

update-deps: ## resolve the dev install afresh in a scratch venv and rewrite constraints.txt
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]' hatchling; \
	{ sed '/^[^#]/,$$d' $(LOCK); \
	  "$$tmp/venv/bin/python" -m pip freeze --all --exclude-editable | LC_ALL=C sort -f; } > "$$tmp/lock"; \
	if cmp -s $(LOCK) "$$tmp/lock"; then echo "$(LOCK) is up to date"; else \
	  diff -u $(LOCK) "$$tmp/lock" || true; \
	  cp "$$tmp/lock" $(LOCK); \
	  echo "$(LOCK) rewritten; run make install, make lint and make test before committing it"; \
	fi

test: install ## every test, Hypothesis ci profile (the full example budget); what CI runs
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest

test-fast: install ## the quick loop: no slow or oracle tests, Hypothesis dev profile (a fifth of the examples)
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest -m "not slow and not oracle"

lint: install ## ruff check, ruff format --check, mypy --strict, shellcheck and zsh -n on the shell integration
	$(VENV)/bin/ruff check awsguard tests
	$(VENV)/bin/ruff format --check awsguard tests
	$(VENV)/bin/mypy --strict
	shellcheck -s bash -S style shell/awsguard.bash
	$(PY) -c 'from awsguard.commands import init; print(init.render("bash", bin_dir="/x y/bin", python="/x y/python", root="/x y"))' | shellcheck -s bash -S style -
	zsh -n shell/awsguard.zsh
	$(PY) -c 'from awsguard.commands import init; print(init.render("zsh", bin_dir="/x y/bin", python="/x y/python", root="/x y"))' | zsh -n

fmt: install ## format and auto-fix
	$(VENV)/bin/ruff format awsguard tests
	$(VENV)/bin/ruff check --fix awsguard tests

demo: install ## the field report through the shim: real aws, local STS, the block, the fix
	$(PY) tests/demo/demo.py

bench: install ## benchmarks: ratios measured side by side in one run
	$(PY) tests/bench/bench.py

clean: ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
