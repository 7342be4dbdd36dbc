# The README's commands. Everything they need is created on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
PORT ?= 5000
export FLASK_APP := microblog

.PHONY: run test test-fast lint typecheck bench bench-federation load audit lock backup restore clean

# The venv installs exactly the lock files (every package pinned, each file checked against its hash);
# pip itself is pinned too, at the version the dev lock holds (pip-audit needs it).
PIP_VERSION := 26.3

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

## lock: compile requirements.in and requirements-dev.in into the lock files, with hashes, for Linux,
## macOS and Windows on Python 3.11 and newer. Pins already in the lock stay unless the .in changes them;
## LOCK_ARGS="--upgrade-package babel" (or --upgrade) moves them on. uv comes from the dev lock;
## --no-config: the lock follows the public index alone, whatever this machine's pip or uv settings say.
LOCK_ARGS ?=
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --no-config --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(VENV)/.dev
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt

## run: serve the site on http://127.0.0.1:$(PORT) with SQLite and demo data
run: $(VENV)/.runtime
	$(FLASK) translate compile
	$(FLASK) db upgrade
	$(FLASK) seed --if-empty --users 40 --posts 400 --follows 8
	LOG_TO_STDOUT=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

# Tests keep their databases and search indexes under TMPDIR: on a tmpfs (/dev/shm, when it has a GB
# free) SQLite's syncs cost nothing, a sixth of the fast lane's wall time on a disk. TEST_TMPDIR= keeps
# the system's default.
TEST_TMPDIR ?= $(shell df -k --output=avail /dev/shm 2>/dev/null | awk 'NR == 2 && $$1 > 1048576 {print "/dev/shm"}')
TEST_ENV := $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR))

## test: the whole test suite (PostgreSQL and browser tests skip with a reason when absent)
# Tests run in parallel on every core (pytest-xdist) and name the 15 slowest; PYTEST_ARGS="-n 0 -k name" for one process.
PYTEST_ARGS ?= -n auto --durations=15
test: $(VENV)/.dev masto-client pasture
	$(FLASK) translate compile
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# masto.js, the third real Mastodon client (tests/test_mastodon_masto.py), at the version its lock pins,
# in its own folder; without node and npm its tests skip with the reason (CI installs them).
MASTO := tests/clients/masto
.PHONY: masto-client
masto-client:
	@if command -v npm >/dev/null && [ ! $(MASTO)/node_modules/.package-lock.json -nt $(MASTO)/package-lock.json ]; then \
		cd $(MASTO) && npm ci --no-audit --no-fund --silent; \
	fi

# fediverse-pasture (tests/federation/test_pasture.py), the Fediverse Test Framework's actor verification,
# in a virtualenv of its own from its hash-pinned lock (bovine needs an older cryptography than the app).
PASTURE := tests/clients/pasture
.PHONY: pasture
pasture: $(PASTURE)/.venv/.installed
$(PASTURE)/.venv/.installed: $(PASTURE)/requirements.txt
	@rm -rf $(PASTURE)/.venv
	$(PYTHON) -m venv $(PASTURE)/.venv
	$(PASTURE)/.venv/bin/pip install --quiet --disable-pip-version-check --require-hashes \
		-r $(PASTURE)/requirements.txt || { rm -rf $(PASTURE)/.venv; \
		echo "pasture: not installed (tests/federation/test_pasture.py will skip)"; exit 0; }
	@touch $@

## test-fast: the lane to run on every change: unit and service tests on SQLite, no slow, browser, deploy,
## fault, fuzz or PostgreSQL tests (markers in pyproject.toml); about a minute on two cores (1,583 tests).
FAST_LANE := not slow and not browser and not faults and not fuzz and not postgres and not deploy
# The folders and modules of the lanes left out are not even collected (their imports cost seconds).
FAST_SKIP := --ignore=tests/browser --ignore=tests/faults --ignore=tests/deploy \
	--ignore=tests/test_api_fuzz.py --ignore=tests/security/test_fuzz_web.py --ignore=tests/test_mastodon_fuzz.py
test-fast: $(VENV)/.dev
	$(FLASK) translate compile
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS) -m "$(FAST_LANE)" $(FAST_SKIP)

## bench: seed 1M posts, serve with gunicorn, load with wrk, print and save a table (bench/README.md).
## BENCH_ARGS=--small for a quick run; BENCH_DATABASE_URL=postgresql://... adds PostgreSQL.
bench: $(VENV)/.runtime
	$(PY) bench/run.py $(BENCH_ARGS)

## bench-federation: signed Creates one gunicorn worker takes in a second, and one post delivered to
## 10,000 followers on 100 servers on 127.0.0.1 (bench/federation.py, bench/README.md).
bench-federation: $(VENV)/.runtime
	$(PY) bench/federation.py $(BENCH_ARGS)

## load: 64 people posting 50 times each at once under gunicorn (4 workers): nothing lost or doubled, no 5xx,
## reads write nothing (bench/README.md). LOAD_DATABASE_URL=postgresql://... adds PostgreSQL.
load: $(VENV)/.runtime
	$(PY) bench/load.py $(LOAD_ARGS)

## audit: Lighthouse (mobile) on Explore, a profile and sign-in, served by the Procfile's web line on seeded
## SQLite; Lighthouse from bench/audit/package-lock.json (npm ci), Chromium from CHROME_PATH (default
## /usr/bin/chromium). Prints and saves the scores (bench/results/*-audit.md, .json). AUDIT_ARGS="--runs 1".
audit: $(VENV)/.runtime
	$(PY) bench/audit/run.py $(AUDIT_ARGS)

## backup: copy the database (pg_dump, or SQLite's online backup) and the search index into a new
## folder in $(BACKUP_DIR), safe while the site runs. Uses the installed site's .venv and settings (.env).
BACKUP_DIR ?= backups
backup:
	$(FLASK) backup create --into $(BACKUP_DIR)

## restore: put a backup back, after stopping the site: make restore BACKUP=backups/microblog-...
## It asks before replacing anything (YES=1 does not ask); then run `flask db upgrade` if the code is newer.
restore:
	@test -n "$(BACKUP)" || { echo "make restore BACKUP=<a folder made by make backup>"; exit 2; }
	$(FLASK) backup restore $(if $(YES),--yes) $(BACKUP)

## lint: ruff (rules in pyproject.toml) on the code and the tests
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check microblog tests config.py

## typecheck: mypy on microblog/ (pyproject.toml lists the modules not yet clean: keep it shrinking)
typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache
