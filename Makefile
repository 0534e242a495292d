# jiceng — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= jiceng.toml
export JICENG_CONFIG := $(CONFIG)

.PHONY: demo test lint bench install messages clean

$(BIN)/jiceng: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/jiceng

demo: install
	$(BIN)/jiceng config init
	$(BIN)/jiceng db upgrade
	$(BIN)/jiceng demo
	$(BIN)/jiceng serve

test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m bench

messages: install
	$(BIN)/python -m jiceng.core.messages

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
