# RetailAI: `make demo` runs the app with demo data; `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: install demo worker test lint messages

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

## Set up and run the app with the bundled demo data (SQLite, tasks in process unless DATABASE_URL/REDIS_URL are set).
demo: install
	$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0
	$(BIN)/python manage.py demo_setup --address $(HOST)
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "Starting a Celery worker with beat (REDIS_URL is set)…"; \
	  $(BIN)/celery -A retailai worker -B --schedule var/celerybeat-schedule -Q default,training --loglevel INFO --logfile var/worker.log & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/python manage.py runserver $(HOST); \
	else \
	  $(BIN)/python manage.py runserver $(HOST); \
	fi

## A Celery worker (with the beat schedule) for DATABASE_URL/REDIS_URL deployments.
worker: install
	$(BIN)/celery -A retailai worker -B --schedule var/celerybeat-schedule -Q default,training --loglevel INFO

## Set up and run the whole test suite (on the services DATABASE_URL/REDIS_URL name, or the embedded default).
test: install
	$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=retailai.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv
