# Two commands for a newcomer: `make run` and `make test`. `make help` lists the rest.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
DEV_ENV := instance/dev.env
# The dev server reads its secrets from instance/dev.env (made once, never committed); a variable
# already in the environment wins over the file (server/devsetup.py --export).
WITH_ENV := eval "$$($(PY) -m server.devsetup --export $(DEV_ENV))" &&
# `make run` alone is the demo: the SMS outbox, /api/v1/dev/* and the stub face verifier.
DEMO := DEMO_MODE=1

.DEFAULT_GOAL := help
.PHONY: help run serve test lint fmt typecheck migrate revision db-check bench faults check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(DEV_ENV): | $(VENV)/.installed
	$(PY) -m server.devsetup $(DEV_ENV)

run: $(VENV)/.installed $(DEV_ENV) ## the demo (DEMO_MODE=1): migrate SQLite, load the demo, serve on :5000 (PORT=... for another)
	$(WITH_ENV) $(DEMO) $(FLASK) migrate
	$(WITH_ENV) $(DEMO) $(FLASK) demo
	$(WITH_ENV) $(DEMO) $(FLASK) run --host 127.0.0.1 --port $${PORT:-5000}

serve: $(VENV)/.installed $(DEV_ENV) ## production mode through gunicorn: needs SMS_BACKEND, FACE_VERIFIER (docs/operations.md)
	$(WITH_ENV) $(FLASK) migrate
	$(WITH_ENV) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

test: $(VENV)/.installed ## run the whole suite with branch coverage (SQLite; PostgreSQL/Redis too when DATABASE_URL/REDIS_URL are set)
	$(PY) -m pytest --cov --cov-report=term:skip-covered

lint: $(VENV)/.installed ## ruff + mypy --strict + the layer contracts (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

fmt: $(VENV)/.installed ## format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(VENV)/.installed ## mypy --strict over server/ and mobile_api/
	$(VENV)/bin/mypy

migrate: $(VENV)/.installed $(DEV_ENV) ## upgrade the database to the newest schema
	$(WITH_ENV) $(FLASK) migrate

revision: $(VENV)/.installed $(DEV_ENV) ## new migration: make revision m="what it changes"
	$(WITH_ENV) $(VENV)/bin/alembic revision --autogenerate -m "$(m)"

db-check: $(VENV)/.installed $(DEV_ENV) ## fail when the models and the migrations differ
	$(WITH_ENV) $(VENV)/bin/alembic check

bench: $(VENV)/.installed ## run the benchmarks (prints tables; see bench/README.md)
	$(PY) -m bench

faults: $(VENV)/.installed ## fault suite: private PostgreSQL/Redis, gunicorn, kill -9/restart/freeze (FAULTS_SETTLEMENTS=300)
	$(PY) -m faults

check: lint test ## what CI runs

clean: ## remove the venv and the local database
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/demo.json .pytest_cache .mypy_cache .ruff_cache
