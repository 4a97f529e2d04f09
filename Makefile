# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py | cksum | cut -d' ' -f1)

.PHONY: install demo test lint typecheck check-wheel check-postgres

install: $(STAMP) node_modules/.package-lock.json

# axe-core (npm registry) for the accessibility checks of the browser tests.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --silent --no-audit --no-fund

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# 1. Set everything up and run Passport (:5000) and AYNI_SERVIDOR (:5001).
demo: install
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy --strict on the packages named in pyproject.toml ([tool.mypy] files).
typecheck: install
	$(BIN)/mypy

# The wheel, installed outside the checkout, migrates and serves (scripts/check_wheel.sh).
check-wheel: install
	scripts/check_wheel.sh

# 2. The whole suite: lint and types, the wheel check (on PostgreSQL when TEST_DATABASE_URL
#    names one), then the tests on SQLite, then again on that PostgreSQL (CI sets
#    postgresql+psycopg://postgres@127.0.0.1:5432/test). pytest's summary is the last line.
test: lint typecheck
	scripts/check_wheel.sh
	env -u TEST_DATABASE_URL $(BIN)/pytest
	if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/pytest; fi
