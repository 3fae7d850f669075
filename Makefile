# The two commands a newcomer types: `make demo` and `make test`.
# Both create .venv if missing and install the project into it first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Every Python package, pinned with its hashes; `make lock` refreshes it after pyproject.toml changes.
LOCK   := requirements/dev.lock
# The installer: uv (pinned by version and hashes in TOOLS_LOCK, installed into .venv by pip) installs the lock in
# ~20 s where pip takes ~4 min on a 2-core machine. `make venv INSTALLER=pip` (and `make lock INSTALLER=pip`) use pip
# and pip-tools alone, from the same lock. To move uv on:
# `echo uv==NEW | $(BIN)/uv pip compile --generate-hashes -o $(TOOLS_LOCK) -`.
INSTALLER  ?= uv
TOOLS_LOCK := requirements/tools.lock
UV         := $(BIN)/uv
# The real VNPay merchant client (npm `vnpay`, pinned by the lockfile) that tests/test_vnpay_client.py drives.
NODE_DIR   := tests/vnpay_client
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json
# The example merchant built on that library (examples/vnpay-merchant), the system under test of
# `motcua loadtest --protocol vnpay --merchant` and tests/test_example_merchant.py.
EXAMPLE_DIR   := examples/vnpay-merchant
EXAMPLE_STAMP := $(EXAMPLE_DIR)/node_modules/.package-lock.json

# Tests run in two worker processes (pytest-xdist), a test module per worker at a time (its module-scoped mock stack
# starts once); most tests wait on servers and Locust, so two workers keep both cores busy. PYTEST_PARALLEL= runs serially.
PYTEST_PARALLEL ?= -n 2 --dist loadscope

.PHONY: venv node-deps demo notebooks studio test test-all lint lock bench clean

# The versions that were tested: the lock (with --require-hashes), then motcua itself without resolving again.
ifeq ($(INSTALLER),pip)
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)
else
$(UV): $(TOOLS_LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TOOLS_LOCK)
	@touch $(UV)

$(STAMP): pyproject.toml $(LOCK) $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $(STAMP)
endif

# Refresh the lock from pyproject.toml (the newest versions its bounds allow), then reinstall with `make venv`.
ifeq ($(INSTALLER),pip)
lock:
	@test -x $(BIN)/pip-compile || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet pip-tools; }
	$(BIN)/pip-compile --quiet --upgrade --extra dev --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml
else
lock: $(UV)
	$(UV) pip compile --quiet --upgrade --extra dev --generate-hashes --python-version 3.11 --no-emit-index-url \
		-o $(LOCK) pyproject.toml
endif

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js 18+) is required for the VNPay client tests;" \
		"install it (Debian: apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

$(EXAMPLE_STAMP): $(EXAMPLE_DIR)/package.json $(EXAMPLE_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js 18+) is required for the example merchant;" \
		"install it (Debian: apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix $(EXAMPLE_DIR) --no-audit --no-fund --loglevel=error
	@touch $(EXAMPLE_STAMP)

node-deps: $(NODE_STAMP) $(EXAMPLE_STAMP)

venv: $(STAMP) $(NODE_STAMP) $(EXAMPLE_STAMP)

demo: $(STAMP)
	$(BIN)/motcua demo

# JupyterLab (the optional `notebooks` extra) in .venv, opened on notebooks/ on this machine only (127.0.0.1).
# On a server: `make notebooks NOTEBOOK_ARGS=--no-browser`, then open the URL it prints (with an SSH tunnel).
# As root (a container) JupyterLab refuses to start without --allow-root.
NOTEBOOK_STAMP := $(VENV)/.notebooks-stamp
NOTEBOOK_ARGS  ?=
NOTEBOOK_ROOT  := $(if $(filter 0,$(shell id -u)),--allow-root)

$(NOTEBOOK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	@touch $(NOTEBOOK_STAMP)

notebooks: $(NOTEBOOK_STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks $(NOTEBOOK_ROOT) $(NOTEBOOK_ARGS)

# The planners' workbench in the browser (127.0.0.1, a free port; the address is printed).
studio: $(STAMP)
	$(BIN)/motcua studio

# import-linter and mypy read packages from folders, so they check the layout the wheel installs
# (motcua.models from models/, motcua.mock_services from mock_services/, …), built into .lint/site.
# uv builds it without a cache (its cache of a local folder would not see an edited module); mypy keeps its cache in
# .mypy_cache beside the Makefile, so a second `make lint` is quick (CI's fresh clone starts cold, ~35 s).
LINT_SITE := .lint/site
ifeq ($(INSTALLER),pip)
INSTALL_LINT_SITE = $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --target $(LINT_SITE) . 2>/dev/null
else
INSTALL_LINT_SITE = $(UV) pip install --quiet --no-cache --python $(BIN)/python --no-deps --no-build-isolation \
	--target $(LINT_SITE) .
endif

lint: $(STAMP)
	$(BIN)/ruff check .
	@rm -rf $(LINT_SITE) build  # setuptools keeps moved modules in build/lib and would install them again
	$(INSTALL_LINT_SITE)
	cd $(LINT_SITE) && $(CURDIR)/$(BIN)/lint-imports --config $(CURDIR)/pyproject.toml
	cd $(LINT_SITE) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml --cache-dir $(CURDIR)/.mypy_cache \
		-p motcua

test: $(STAMP) $(NODE_STAMP) $(EXAMPLE_STAMP) lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_PARALLEL)

test-all: $(STAMP) $(NODE_STAMP) $(EXAMPLE_STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit $$?; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .lint .mypy_cache $(NODE_DIR)/node_modules
