# Safe Passage — `make run` serves both faces, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test smoke deploy-deps test-sqlite test-postgres bench bench-stalls bench-padding lint check lock messages browser-deps age-deps font-deps clean

$(STAMP): requirements/base.txt requirements/dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/base.txt -r requirements/dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py serve

# The two runs go side by side (one per core), each with a folder of its own for what tests write;
# each prints its output once it has finished.
test: $(STAMP) browser-deps age-deps deploy-deps font-deps
	$(MAKE) -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(STAMP)
	SP_DB_ENGINE=sqlite $(PY) -m pytest

test-postgres: $(STAMP)
	scripts/ensure-postgres
	SP_DB_ENGINE=postgresql SP_DB_HOST=$${SP_DB_HOST:-127.0.0.1} SP_DB_USER=$${SP_DB_USER:-postgres} \
	  SP_DB_NAME=test SP_DB_TEST_NAME=$${SP_DB_TEST_NAME:-test_safepassage} \
	  SP_VAR_DIR=$${SP_VAR_DIR:-$(CURDIR)/var/test-postgres} $(PY) -m pytest

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded by Playwright).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || scripts/install-chromium

# The production stack on loopback, as deploy/ installs it on a server (deploy/tests/test_smoke.py):
# nginx, Tor with its network off, the faces and the worker from their systemd units, PostgreSQL,
# and a browser scenario through the proxy. The suite's PostgreSQL run includes it.
smoke: $(STAMP) browser-deps deploy-deps
	scripts/ensure-postgres
	SP_DB_ENGINE=postgresql SP_DB_HOST=$${SP_DB_HOST:-127.0.0.1} SP_DB_USER=$${SP_DB_USER:-postgres} \
	  SP_DB_NAME=test SP_DB_TEST_NAME=$${SP_DB_TEST_NAME:-test_safepassage_smoke} \
	  SP_VAR_DIR=$${SP_VAR_DIR:-$(CURDIR)/var/smoke} $(PY) -m pytest deploy/tests

# Debian's nginx and Tor for deploy/tests (the stack is started by the tests, not as services).
deploy-deps:
	@command -v nginx >/dev/null 2>&1 && command -v tor >/dev/null 2>&1 || scripts/install-deploy-deps

# Debian's age for the test that opens a backup with the ordinary tool (backups/tests).
age-deps:
	@command -v age >/dev/null 2>&1 || scripts/install-age

# Debian's DejaVu fonts for the PDF summary of evidence exports (evidence/tests).
font-deps:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || scripts/install-fonts

bench: $(STAMP)
	$(PY) -m bench.run

# Benchmark 7 alone (stalled clients against the landing page): prints its section, RESULTS.md untouched.
bench-stalls: $(STAMP)
	$(PY) -m bench.stalls

bench-padding: $(STAMP)
	$(PY) -m bench.padding_overhead

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check: $(STAMP)
	scripts/deploy-check

messages: $(STAMP)
	$(PY) manage.py makemessages -l ru --no-obsolete --no-location
	$(PY) manage.py compilemessages

lock:
	$(PYTHON) -m piptools compile -q --generate-hashes --allow-unsafe --strip-extras -o requirements/base.txt requirements/base.in
	$(PYTHON) -m piptools compile -q --generate-hashes --allow-unsafe --strip-extras -o requirements/dev.txt requirements/dev.in

clean:
	rm -rf $(VENV) var/test var/test-postgres
