# jindu: `make demo` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
UV := .tools/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test setup system-deps lint messages bench clean

$(UV):
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/jindu migrate --verbosity 0
	$(BIN)/jindu demo
	$(BIN)/jindu serve

system-deps:
	scripts/system-deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: setup system-deps
	scripts/test.sh

bench: setup system-deps
	scripts/bench.sh

messages: setup
	scripts/messages.sh

clean:
	rm -rf $(VENV) .tools data/staticfiles
