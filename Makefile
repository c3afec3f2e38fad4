# The two commands of the README:
#   make run    installs what is needed, migrates, loads the demo community, serves on :8000
#   make test   installs what is needed and runs the whole suite (SQLite, then PostgreSQL)
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
COUNCIL := .venv/bin/council
PYTEST := .venv/bin/pytest
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint typecheck bench messages setup setup-test

setup:
	@scripts/bootstrap.sh run

setup-test:
	@scripts/bootstrap.sh test

run: setup
	@$(COUNCIL) migrate >/dev/null
	@$(COUNCIL) demo --if-empty
	@$(COUNCIL) serve --host $(HOST) --port $(PORT)

test: setup-test
	@$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite:
	@echo "==> tests on SQLite"
	@COUNCIL_TEST_DB=sqlite $(PYTEST) -q $(PYTEST_ARGS)

test-postgres:
	@echo "==> tests on PostgreSQL ($${COUNCIL_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test})"
	@COUNCIL_TEST_DB=postgres $(PYTEST) -q $(PYTEST_ARGS)

lint:
	@.venv/bin/ruff check council tests
	@.venv/bin/ruff format --check council tests

typecheck:
	@.venv/bin/mypy --strict council

bench:
	@scripts/bootstrap.sh bench
	@.venv/bin/python -m tests.bench
	@.venv/bin/python -m tests.bench.ballots_crypto
	@.venv/bin/python -m tests.bench.ballots_verify
	@.venv/bin/python -m tests.bench.ballots_js
	@.venv/bin/python -m tests.bench.ballots_http
	@.venv/bin/python -m tests.bench.hearings_live

messages:
	@.venv/bin/pybabel -q extract -F babel.cfg -k N_ -o council/locale/messages.pot --no-location --omit-header . >/dev/null
	@.venv/bin/pybabel -q update --ignore-pot-creation-date -i council/locale/messages.pot -d council/locale -l zh_Hans --no-fuzzy-matching
	@.venv/bin/pybabel -q update --ignore-pot-creation-date -i council/locale/messages.pot -d council/locale -l en --no-fuzzy-matching
