# The two commands of the README: `make run` and `make test`. Both set themselves up
# (virtualenv, dependencies from the lock, migrations) on a machine with Python 3.11+.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo-reset test test-postgres contract install migrate seed lint format typecheck openapi openapi-check check clean ci bench-upload bench-sweep bench-stats bench-api bench-scale

$(STAMP): pyproject.toml requirements.lock clients/python/setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]' -e ./clients/python
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput

# Quietly, as serve: each step of the demo disputes queues a relay (a log line each).
seed: migrate
	LOG_QUIET_IDLE=$${LOG_QUIET_IDLE:-1} $(PY) manage.py seed_demo

# The demo data back to its initial state (README "Demo data"): everything the service
# stored is erased and seeded anew, so the walkthrough can be run again.
demo-reset: migrate
	LOG_QUIET_IDLE=$${LOG_QUIET_IDLE:-1} $(PY) manage.py seed_demo --reset --noinput

run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@$(PY) manage.py serve --port $(PORT)

# In parallel, one pytest-xdist worker per core (each with its own test database).
test: install
	$(PY) -m pytest -q -p no:cacheprovider -n auto

# The same suite against PostgreSQL and Redis (used by .ci/run):
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation REDIS_URL=redis://127.0.0.1:6379/0 make test-postgres
test-postgres: install
	$(PY) -m pytest -q -p no:cacheprovider -n auto

# The contract test (tests/contract/, left out of `make test`): schemathesis against a live
# gunicorn server as four roles (buyer, shop owner, mediator, the platform's API key), every
# check and phase, CONTRACT_MAX_EXAMPLES (100) test cases per operation. It makes its own
# database of the suite's kind: SQLite, or PostgreSQL (and Redis) when the caller sets
# DATABASE_URL (and REDIS_URL), as for test-postgres. See README "Contract test".
contract: install
	$(PY) -m pytest -q -p no:cacheprovider -m contract tests/contract

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy .

# openapi.yaml from the code, then the Python client (clients/python) from openapi.yaml.
openapi: install
	$(PY) manage.py spectacular --file openapi.yaml --validate
	$(PY) clients/generate.py

openapi-check: install
	$(PY) -m pytest -q -p no:cacheprovider tests/api/test_openapi.py

# The benchmarks live in benchmarks/ (management commands), apart from the product.
# Peak RSS growth of the serving process while it receives a 50 MB upload (budget 16 MB).
bench-upload: install
	$(PY) manage.py bench_upload

# Due deadline transitions per second the sweeper applies on PostgreSQL (with audit entries
# and outbox rows), next to raw SQL doing the same writes; in a throw-away database.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mediation_bench
bench-sweep: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_sweep

# Query count and time of the dashboard's statistics over 100,000 disputes.
bench-stats: install
	$(PY) manage.py bench_stats

# Transitions per second through the API (gunicorn as the Dockerfile runs it), next to a
# bare DRF endpoint on the same database (benchmarks/bare) and pgbench replaying the SQL
# one transition sends, interleaved and repeated; recreates its database, uses Redis DB 9.
#   make bench-api BENCH_API_ARGS="--rounds 3 --verbose"   or   BENCH_API_ARGS=--profile
BENCH_API_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mediation_benchapi
BENCH_API_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH_API_ARGS ?=
bench-api: install
	DATABASE_URL=$(BENCH_API_DATABASE_URL) REDIS_URL=$(BENCH_API_REDIS_URL) \
	CELERY_BROKER_URL=$(BENCH_API_REDIS_URL) BENCH_REDIS_URL=$(BENCH_API_REDIS_URL) \
	API_THROTTLE_USER=1000000/minute DJANGO_DEBUG=0 DJANGO_HTTPS=0 \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-bench-api-throw-away-database-not-a-secret-0123456789} \
	$(PY) manage.py bench_api $(BENCH_API_ARGS)

# Every list of the API and the console timed at two sizes of one marketplace (p50/p95,
# ratio), their plans' sequential scans, and verify_audit's throughput; the databases
# mediation_scale_$(BASE) and mediation_scale_$(SIZE) are built by COPY (or reused).
SIZE ?= 1m
BASE ?= 10k
BENCH_SCALE_SERVER ?= postgres://postgres@127.0.0.1:5432
bench-scale: install
	BENCH_SCALE_SERVER=$(BENCH_SCALE_SERVER) $(PY) manage.py bench_scale --size $(SIZE) --base $(BASE)

check: lint typecheck openapi-check

# The gate that decides whether work lands (as root on the Debian CI machine): starts
# PostgreSQL and Redis if needed, then make test, the suite on PostgreSQL + Redis, lint,
# mypy and the OpenAPI drift check. See .ci/run.
ci:
	.ci/run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
