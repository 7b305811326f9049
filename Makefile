# Innovatiebieb — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MO := portal/translations/nl/LC_MESSAGES/messages.mo

.PHONY: run test install lint format opensearch opensearch-stop translations clean

install: $(STAMP) $(MO)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
	  { echo "make: Python 3.11 is needed (found: $$($(PYTHON) --version 2>&1)); set PYTHON=/path/to/python3.11"; exit 1; }
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

test: install
	@echo "==> lint (ruff)"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@if [ -z "$$OPENSEARCH_URL" ]; then echo "==> OpenSearch distribution"; $(PY) -m devnode fetch >/dev/null; fi
	@echo "==> tests"
	@$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

opensearch: install
	$(PY) -m devnode start

opensearch-stop: install
	$(PY) -m devnode stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(MO)
