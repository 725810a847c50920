# Two commands do all the set-up on a fresh machine (Python 3.11, pip and make):
#   make run    install what the app needs into .venv, then serve it on http://localhost:8501 (this machine only)
#   make test   install the app and test tools (and Debian's chromium and nginx when missing), lint, run every test
#   make class  serve a class: one app process per core behind nginx (installed when missing) on port 8500
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
CHROMIUM := /usr/bin/chromium
PROCESSES ?= $(shell nproc 2>/dev/null || echo 2)
CLASS_PORT ?= 8500
LISTEN ?= 127.0.0.1
CLASS_ARGS ?=

.PHONY: run class test lint bench install install-dev chromium nginx clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/activate
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port $(PORT)

chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Debian's nginx, for `make class` and its test; only the package is installed, no system service is started.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  echo "Installing Debian's nginx for serving a class"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx; }

# PROCESSES app processes (default: the cores) behind nginx on LISTEN:CLASS_PORT; LISTEN=0.0.0.0 opens it
# to the network. More options (other machines as upstreams...): .venv/bin/python scripts/serve_class.py -h
class: install nginx
	$(PY) scripts/serve_class.py --processes $(PROCESSES) --port $(CLASS_PORT) --listen $(LISTEN) $(CLASS_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install-dev chromium nginx lint
	$(PY) -m pytest

# Every benchmark runs even if one misses its target; the exit status says whether any did.
bench: install-dev
	@status=0; for b in benchmarks/bench_*.py; do echo "== $$b"; PYTHONPATH=. $(PY) $$b || status=1; done; exit $$status

clean:
	rm -rf $(VENV) artifacts run .pytest_cache .ruff_cache .hypothesis
