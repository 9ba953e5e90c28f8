# The README's commands. Everything installs itself into .venv on first use (pip only, nothing by hand).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= reports

.PHONY: review test lint lab sample bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's dependencies change.
$(VENV)/.runtime-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.runtime-installed

## make review: run the account review on the embedded sample account -> $(OUT)/index.html
review: $(VENV)/.runtime-installed
	$(BIN)/lambda-workbook review --source sample --out $(OUT)

## make test: ruff, then the whole test suite
test: $(VENV)/.test-installed lint
	$(BIN)/python -m pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check lib tests benchmarks

## make lab: JupyterLab on notebooks/
lab: $(VENV)/.runtime-installed
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

## make sample: regenerate data/sample-account deterministically
sample: $(VENV)/.runtime-installed
	$(BIN)/lambda-workbook sample generate

## make bench: run every benchmark and print its figures
bench: $(VENV)/.test-installed
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
