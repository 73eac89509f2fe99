# Skyloom's one command surface. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, or bootstrapped into .tools/ through pip on a machine that has none.
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=

.PHONY: help install lint fmt typecheck proto proto-check test test-unit test-integration test-slow bench-sdk bench-datacatalog bench-admin clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet 'uv>=0.5'

install: $(if $(findstring .tools,$(UV)),$(UV)) ## create .venv and install every workspace member (from nothing)
	$(UV) sync --frozen --all-packages

lint: install ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

fmt: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: install ## mypy --strict on all hand-written code
	$(RUN) mypy

proto: install ## regenerate libs/idl from proto/
	$(RUN) python libs/idl/generate.py

proto-check: install ## buf lint, buf breaking against the baseline, generated code up to date
	$(RUN) python libs/idl/generate.py --check

test-unit: install ## unit tests only (no servers)
	$(RUN) pytest -m "not integration and not slow" $(PYTEST_ARGS)

test-integration: install ## integration tests against real Postgres, NATS and S3
	$(RUN) pytest -m "integration and not slow" $(PYTEST_ARGS)

test: install lint typecheck proto-check ## everything CI runs: lint, types, contracts, unit and integration tests
	$(RUN) pytest -m "not slow" $(PYTEST_ARGS)

test-slow: install ## the slow suites (long fault and load tests)
	$(RUN) pytest -m slow $(PYTEST_ARGS)

bench-sdk: install ## skyloom vs flytekit local: per-task overhead and CLI time (installs flytekit into bench/sdk/.venv-flytekit)
	$(PY) bench/sdk/run.py

bench-datacatalog: install ## datacatalog lookup p50/p99 under 100 clients beside a bare asyncpg lookup
	$(PY) bench/datacatalog/bench_lookup.py

bench-admin: install ## admin CreateExecution/s and events ingested/s beside a grpc.aio echo and a batched insert
	$(PY) bench/admin/bench_create_execution.py
	$(PY) bench/admin/bench_ingest_events.py

clean: ## remove the venv and caches
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
