# make run  - set everything up and serve the portal on http://127.0.0.1:8000
# make test - set everything up and run the whole test suite
# Both use SQLite, in-process tasks and e-mail written to var/mail/ unless DATABASE_URL,
# REDIS_URL and EMAIL_URL say otherwise.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
# Development defaults; a real environment sets its own.
export DEBUG ?= 1
PYTEST_ARGS ?=

.PHONY: run test test-sqlite setup axe build lint messages clean worker

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Reinstall only when the package's declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

# axe-core, which the browser tests inject into every page they load to audit it for WCAG 2.1
# AA (issue 15, tests/browser/axe.py): from npm, at the version tests/browser/package-lock.json
# pins; installed again only when the lock changes. The tests never fetch it themselves.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

axe: $(AXE)

# What the portal needs before it serves: schema, compiled catalogue, static files.
build: setup
	$(MANAGE) compilemessages --ignore=.venv --ignore=staticfiles --ignore=var --verbosity 0
	$(MANAGE) migrate --noinput --verbosity 0
	$(MANAGE) collectstatic --noinput --verbosity 0

run: build
	$(MANAGE) seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "REDIS_URL is set: starting a Celery worker with beat beside the web server"; \
	  $(VENV)/bin/celery -A portal worker --beat --loglevel=INFO --concurrency=2 & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(MANAGE) runserver 127.0.0.1:8000; \
	else \
	  $(MANAGE) runserver 127.0.0.1:8000; \
	fi

test: setup $(AXE)
	$(VENV)/bin/ruff check .
	$(MANAGE) compilemessages --ignore=.venv --ignore=staticfiles --ignore=var --verbosity 0
	$(MANAGE) makemigrations --check --dry-run --verbosity 0
	$(PY) -m pytest $(PYTEST_ARGS)

# With DATABASE_URL set (CI), make test runs on PostgreSQL; make run's default is SQLite, where
# the queries written for each database take their other path (permits.prepared: no batched
# statements, no arrays). This runs the pages of every URL (the access matrix) and the tests
# of those queries on SQLite too; what only PostgreSQL does (@pytest.mark.postgres) skips.
SQLITE_TESTS := tests/test_access_matrix.py tests/masks tests/permits/test_listing.py \
	tests/permits/test_lists_lean.py tests/permits/test_case_page.py \
	tests/permits/test_admin_list.py tests/permits/test_admin_export.py \
	tests/permits/test_queues.py tests/permits/test_prepared.py tests/shtc/test_filing_lists.py \
	tests/shtc/test_pages_kept.py tests/shtc/test_review_queries.py tests/permits/test_fixed_text.py \
	tests/permits/test_admin_list_rows.py tests/permits/test_admin_list_written.py \
	tests/permits/test_form_drawings.py tests/permits/test_together_pipeline.py
test-sqlite: setup
	env -u DATABASE_URL $(PY) -m pytest -k "not browser" $(SQLITE_TESTS)

lint: setup
	$(VENV)/bin/ruff check .

# After changing English msgids: update the catalogue, then translate the new entries.
messages: setup
	$(MANAGE) makemessages -l zh_Hant --ignore=.venv --ignore=staticfiles --ignore=var --ignore=tests --no-obsolete

worker: setup
	$(VENV)/bin/celery -A portal worker --beat --loglevel=INFO

clean:
	rm -rf $(VENV) staticfiles tests/browser/node_modules
