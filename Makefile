# glasspane: `make run` starts the server, `make test` runs every check.
# Both create the virtualenv and install what they need on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-installed
NODE_STAMP := tests/node/node_modules/.stamp-installed

.PHONY: run test lint unit e2e bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages the tests drive: Node.js (the @sentry/node test), wrk
# (the benchmark's load generator) and Chromium (the web UI's Playwright
# tests). Installed only where missing.
system-deps:
	@missing=""; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && apt-get install -y -qq $$missing; \
	fi

BROWSER_STAMP := tests/browser/node_modules/.stamp-installed
$(BROWSER_STAMP): tests/browser/package.json tests/browser/package-lock.json | system-deps
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $(BROWSER_STAMP)

$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json | system-deps
	cd tests/node && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The OTLP/JSON exporter pins packages that conflict with the protobuf exporter,
# so the test that drives it gets a virtualenv of its own.
OTLP_JSON_STAMP := .venv-otlp-json/.stamp-installed
$(OTLP_JSON_STAMP):
	$(PYTHON) -m venv .venv-otlp-json
	.venv-otlp-json/bin/pip install --quiet opentelemetry-sdk opentelemetry-exporter-otlp-json-http
	touch $(OTLP_JSON_STAMP)

run: $(STAMP)
	$(BIN)/glasspane serve

# The scenario of seed/000 for real: ten services traced with the real
# sentry-sdk, simulated users, and the blockchain fault switched on after three
# minutes (a healthy baseline first, so the p95 regression shows). Ctrl-C
# stops everything. Change it with e.g. make demo DEMO_ARGS="--fault rpc-down".
DEMO_ARGS ?= --fault timeouts --fault-after 3m
.PHONY: demo
demo: $(STAMP)
	$(BIN)/glasspane demo $(DEMO_ARGS)

# The README's screenshots (docs/screenshots/) from a demo run of a few minutes:
# every page of the navigation and the detail pages. optipng, where installed,
# shrinks the PNGs.
.PHONY: screenshots
screenshots: $(STAMP) $(BROWSER_STAMP)
	$(BIN)/python scripts/screenshots.py --readme

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) system-deps $(NODE_STAMP) $(BROWSER_STAMP) $(OTLP_JSON_STAMP) lint
	$(BIN)/python -m pytest -q

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

bench: $(STAMP) system-deps
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .venv-otlp-json tests/node/node_modules tests/browser/node_modules .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache
