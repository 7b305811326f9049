# Innovatiebieb — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MO := portal/translations/nl/LC_MESSAGES/messages.mo

AXE := node_modules/axe-core/axe.min.js

.PHONY: run test test-cluster install browser-deps db-deps redis-deps postgres postgres-stop lint format opensearch opensearch-stop translations clean reminders digests bench relevance

install: $(STAMP) $(MO)

# Browser tests use Debian's Chromium (no browser download) and axe-core from npm.
browser-deps: $(AXE)
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing Debian's chromium for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || { echo "make: could not install chromium with apt-get"; exit 1; }; \
	  else \
	    echo "make: chromium is missing and installing it needs root (apt-get install chromium); browser tests will be skipped"; \
	  fi; \
	fi

# PostgreSQL tests use Debian's server binaries, run by devdb as an unprivileged user.
db-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [[ "$$DATABASE_URL" != postgresql* ]]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing Debian's postgresql for the registry tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
	      || { echo "make: could not install postgresql with apt-get"; exit 1; }; \
	  else \
	    echo "make: PostgreSQL is missing and installing it needs root (apt-get install postgresql); PostgreSQL tests will be skipped"; \
	  fi; \
	fi

# Shared-state tests (rate limit across processes) use Debian's redis-server, run by devredis.
redis-deps:
	@if ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing Debian's redis-server for the shared-state tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
	      || { echo "make: could not install redis-server with apt-get"; exit 1; }; \
	  else \
	    echo "make: redis-server is missing and installing it needs root (apt-get install redis-server); shared-state tests will be skipped"; \
	  fi; \
	fi

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed for axe-core (browser accessibility tests)"; exit 1; }
	@echo "==> installing axe-core (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $(AXE)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.implementation.name == "cpython" and sys.version_info >= (3, 11) else 1)' || \
	  { echo "make: CPython 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1)); set PYTHON=/path/to/python3"; exit 1; }
	@echo "==> creating $(VENV) and installing dependencies (constraints.txt)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade "pip>=24" || { echo "make: pip could not reach the package index"; exit 1; }
	@$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]' || { echo "make: installing dependencies failed (is PyPI reachable?)"; exit 1; }
	@touch $(STAMP)

$(MO): portal/translations/nl/LC_MESSAGES/messages.po $(STAMP)
	@echo "==> compiling translations"
	@$(VENV)/bin/pybabel compile --statistics -d portal/translations

translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o portal/translations/messages.pot .
	$(VENV)/bin/pybabel update -i portal/translations/messages.pot -d portal/translations

run: install
	@$(PY) scripts/run.py

test: install browser-deps db-deps redis-deps
	@echo "==> lint (ruff)"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@if [ -z "$$OPENSEARCH_URL" ]; then echo "==> OpenSearch distribution"; $(PY) -m devnode fetch >/dev/null; fi
	@echo "==> tests"
	@$(PY) -m pytest

# The three-node cluster tests (node loss, rebuild with a node down, red cluster): ~10 min.
test-cluster: install db-deps
	@$(PY) -m devnode fetch >/dev/null
	CLUSTER_TESTS=1 $(PY) -m pytest -m cluster -p no:randomly

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m bench.run --size 10000

# The judged-query evaluation: nDCG@10, recall@20, MRR, zero-result rate per query kind,
# beside a plain multi_match baseline; figures to bench/results/<date>-relevance.{json,md}.
relevance: install
	@if [ -z "$$OPENSEARCH_URL" ]; then $(PY) -m devnode fetch >/dev/null; fi
	$(PY) -m bench.relevance

reminders: install
	$(VENV)/bin/flask --app portal editorial send-reminders

digests: install
	$(VENV)/bin/flask --app portal editorial send-digests

opensearch: install
	$(PY) -m devnode start

opensearch-stop: install
	$(PY) -m devnode stop

postgres: install db-deps
	$(PY) -m devdb start

postgres-stop: install
	$(PY) -m devdb stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(MO) node_modules
