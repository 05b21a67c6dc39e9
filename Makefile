# vm-system developer entry points. `make help` lists them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI_STAMP := vmsystem/web/static/index.html

.PHONY: help install ui ui-types run serve test check lint typecheck test-py test-ui bench dist clean runtime-js

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP) ui  ## Create .venv, install vm-system with its dev tools, build the web UI

# The UI's API types are generated from the daemon's OpenAPI document at every UI build (and
# committed: tests/web/test_ui_api_contract.py fails when they are stale).
$(UI_STAMP): $(STAMP) $(shell find ui/src ui/index.html ui/package.json ui/vite.config.ts -type f 2>/dev/null)
	$(MAKE) --no-print-directory ui-types
	npm --prefix ui ci --no-audit --no-fund --loglevel=error
	npm --prefix ui run build

ui: $(UI_STAMP)  ## Build the web UI into vmsystem/web/static

ui-types: $(STAMP)  ## Regenerate the UI's API types (ui/src/api/openapi.ts) from the daemon's /openapi.json
	npm --prefix ui/codegen ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m vmsystem.api.openapi ui/codegen/openapi.json
	npm --prefix ui/codegen run --silent api-types

runtime-js:  ## Rebuild the prelude's npm bundles (vmsystem/runtime/js/bundle-*.js, committed) from runtime-js/
	npm --prefix runtime-js ci --no-audit --no-fund --loglevel=error
	npm --prefix runtime-js run build

run: install  ## Install everything and start the daemon (http://127.0.0.1:3210)
	$(BIN)/vm-system serve

serve: run

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check vmsystem tests bench scripts setup.py
	$(BIN)/ruff format --check vmsystem tests bench scripts setup.py

typecheck: $(STAMP)  ## mypy --strict on the package
	$(BIN)/mypy

check: lint typecheck  ## Lint and type-check

test-ui: ui  ## Type-check and unit-test the web UI (Vitest)
	npm --prefix ui run check
	npm --prefix ui test

test-py: install  ## The Python suite (starts PostgreSQL for the store tests)
	scripts/install-system-deps.sh --test
	VMSYSTEM_TEST_POSTGRES_URL="$${VMSYSTEM_TEST_POSTGRES_URL:-$$(scripts/start-test-postgres.sh)}" \
	    $(BIN)/pytest -q

test: install check test-ui test-py  ## Install everything and run the whole test suite

bench: install  ## Run the benchmarks (prints a table, writes bench/results/latest.json)
	$(BIN)/python -m bench

# The UI is always rebuilt from ui/ so that the wheel never carries whatever static files a
# checkout happened to hold; setup.py refuses to package without them.
dist: $(STAMP)  ## Build the sdist and the wheel into dist/ (rebuilds the web UI first)
	rm -rf dist vmsystem/web/static
	npm --prefix ui ci --no-audit --no-fund --loglevel=error
	npm --prefix ui run build
	$(BIN)/python -m build --outdir dist .

clean:  ## Remove the virtualenv and build output
	rm -rf $(VENV) ui/node_modules ui/codegen/node_modules vmsystem/web/static dist build *.egg-info
