# difflearn — two commands on a fresh clone:
#   make serve   set up .venv, render missing figures, serve the site at http://127.0.0.1:8000
#   make test    set up .venv and run every test (ruff, pytest, strict site build, browser test)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch. A GPU user installs CUDA torch into .venv first (see README);
# an existing torch is never replaced.
TORCH_SPEC ?= torch==2.13.0
KATEX_VERSION ?= 0.19.1
KATEX_DIR := $(VENV)/node/node_modules/katex
HOST ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: serve test build figures figures-quick snippet-outputs lint bench browser-deps clean help
.DEFAULT_GOAL := help

help:
	@echo "make serve  - set up .venv, render missing figures, serve http://$(HOST)"
	@echo "make test   - set up .venv and run the whole test suite"
	@echo "make build  - strict site build into site/"
	@echo "make figures [FORCE=1] - render stale figures (CUDA when available)"
	@echo "make snippet-outputs - run every snippet and keep its output for the site"

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, so pip never picks a multi-GB CUDA wheel by itself
$(VENV)/.torch: | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_SPEC)"
	@touch $@

$(KATEX_DIR)/package.json: | $(PY)
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed to install KaTeX for offline math: install nodejs and npm"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node katex@$(KATEX_VERSION)

$(VENV)/.docs: pyproject.toml $(VENV)/.torch $(KATEX_DIR)/package.json
	$(PY) -m pip install -q -e ".[docs]"
	@touch $@

# k-diffusion (test-only) without its training stack: the tests import only its samplers
KDIFFUSION_SPEC ?= k-diffusion==0.1.1.post1

$(VENV)/.test: pyproject.toml $(VENV)/.docs
	$(PY) -m pip install -q -e ".[test]"
	$(PY) -m pip install -q --no-deps "$(KDIFFUSION_SPEC)"
	@touch $@

# Chromium for the browser test: Debian's package (no browser download by a test tool)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "!!! could not install chromium: the browser test will fail (set DIFFLEARN_SKIP_BROWSER=1 to skip it knowingly)"; \
	    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	      (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || true; \
	    else echo "!!! chromium is not installed and I cannot install it (no root): the browser test will fail; install the 'chromium' package or set DIFFLEARN_SKIP_BROWSER=1"; fi; }

figures: $(VENV)/.docs
	$(PY) -m tools.figures $(if $(FORCE),--force,)

# the printed output shown under each snippet on the site (tests/test_snippets.py)
snippet-outputs: $(VENV)/.test
	UPDATE_SNIPPET_OUTPUTS=1 $(PY) -m pytest -q -n 2 tests/test_snippets.py

serve: $(VENV)/.docs
	$(PY) -m tools.figures
	$(PY) -m mkdocs serve -a $(HOST)

build: $(VENV)/.docs
	$(PY) -m mkdocs build --strict

lint: $(VENV)/.test
	$(PY) -m ruff check .

test: $(VENV)/.test browser-deps
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 -m "not site" --durations=25 $(PYTEST_ARGS)
	$(PY) -m pytest -m site --durations=10 $(PYTEST_ARGS)

bench: $(VENV)/.test
	$(PY) benchmarks/solvers.py

clean:
	rm -rf site build .pytest_cache .ruff_cache test-artifacts .figures-quick
