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

# Embedded mode: SQLite file under var/, background jobs on an SQLite queue (var/celery.sqlite3). The
# worker runs under bin/supervise, which starts it again whenever it dies; make run stops when the web
# server does or when the worker keeps dying. The pixel, webhook and partner-link URLs name the port
# served unless TRACKREV_PUBLIC_URL says otherwise, in the environment or in .env (which make must then
# leave to Django: an exported value would win over it). .env (git-ignored) gets DEBUG on and keys of
# this clone's own, so that manage.py commands work too with nothing exported.
run: export DJANGO_DEBUG = 1
ifeq ($(shell grep -s '^TRACKREV_PUBLIC_URL=.' .env),)
run: export TRACKREV_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
endif
run: $(VENV)/.runtime
	$(PY) bin/dev_env.py .env
	mkdir -p var/static
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "TrackRev is starting at http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server and the worker)"
	@bin/supervise var/worker.log $(VENV)/bin/celery -A trackrev worker --beat --loglevel=WARNING \
		--concurrency=2 --schedule=var/celerybeat-schedule & worker=$$!; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload & web=$$!; \
	trap 'kill $$web $$worker 2>/dev/null; wait' EXIT; trap 'exit 130' INT TERM; \
	while kill -0 $$web 2>/dev/null && kill -0 $$worker 2>/dev/null; do sleep 1; done; \
	kill -0 $$web 2>/dev/null && echo "make run stops: the background worker keeps dying (see var/worker.log)"; \
	exit 1

test: $(VENV)/.dev
	$(PY) -m pytest -n 2 -q

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The benchmarks drive HTTP with wrk (Debian's package): installed here when missing, as .ci/run installs
# Chromium; without root or apt, the message says what to install.
bench: $(VENV)/.dev
	@command -v wrk >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
		{ echo "make bench needs wrk (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"; exit 1; }
	$(PY) -m tests.benchmarks $(BENCH)

clean:
	rm -rf var
