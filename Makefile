# The README's two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Embedded mode: SQLite file under var/, background jobs on a filesystem queue under var/celery.
run: export DJANGO_DEBUG = 1
run: $(VENV)/.runtime
	mkdir -p var/static
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "TrackRev is starting at http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server and the worker)"
	@$(VENV)/bin/celery -A trackrev worker --beat --loglevel=WARNING --concurrency=2 \
		--schedule=var/celerybeat-schedule > var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

test: $(VENV)/.dev
	$(PY) -m pytest -n 2 -q

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.dev
	$(PY) -m tests.benchmarks $(BENCH)

clean:
	rm -rf var
