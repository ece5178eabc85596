# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
HOST ?= 127.0.0.1

.PHONY: run test lint format migrate admin bench bench-python clean browser system system-test node nginx mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input

# Pango, HarfBuzz and fonts for transcript PDFs (and pdftoppm for the tests): installed with
# apt-get when missing, or one line says what to install (tools/system-packages.sh).
system: $(VENV)/.installed
	@bash tools/system-packages.sh $(BIN)/python run

system-test: $(VENV)/.installed
	@bash tools/system-packages.sh $(BIN)/python test

run: system migrate
	PORT=$(PORT) HOST=$(HOST) $(BIN)/python manage.py serve

admin: migrate
	$(BIN)/python manage.py createsuperuser

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The agent desk's browser tests drive Debian's chromium (never a browser download of their own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends chromium; }

# From npm (package-lock.json), installed with npm ci: axe-core for the widget's browser test,
# and the official JSON Schema the AsyncAPI document is checked against (@asyncapi/specs).
node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The deployment recipe's test (tests/e2e/test_nginx.py) runs Debian's nginx in front of two
# servers. Installed only, never started as a service here: the test runs its own in the foreground.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends nginx-light || \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx; }

# The whole suite on the embedded defaults (SQLite, in-memory), then the end-to-end tests
# again on PostgreSQL and Redis when they answer (see tests/backends.sh).
test: lint browser system-test node nginx
	$(BIN)/python -m pytest
	bash tests/backends.sh $(BIN)/python -m pytest -m e2e

# Mutation testing of the security-critical modules (see [tool.mutmut] in pyproject.toml); slow, not in CI.
# What survives is recorded in docs/mutation.md.
mutate: $(VENV)/.installed-test
	$(BIN)/mutmut run; $(BIN)/mutmut results

# The chat server against a bare python-socketio echo, driven by the official socket.io-client
# (bench/README.md); bench-python: the Python generator's scenarios (latency, memory).
bench: $(VENV)/.installed-test
	cd bench && npm ci --no-audit --no-fund
	$(BIN)/python bench/compare.py

bench-python: $(VENV)/.installed-test
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
