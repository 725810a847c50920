# Two commands do all the set-up on a fresh machine (Python 3.11, pip and make):
#   make run    install what the app needs into .venv, then serve it on http://localhost:8501 (this machine only)
#   make test   install the app and test tools (and Debian's chromium when missing), lint, run every test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint bench install install-dev chromium clean

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

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install-dev chromium lint
	$(PY) -m pytest

# Every benchmark runs even if one misses its target; the exit status says whether any did.
bench: install-dev
	@status=0; for b in benchmarks/bench_*.py; do echo "== $$b"; PYTHONPATH=. $(PY) $$b || status=1; done; exit $$status

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache .hypothesis
