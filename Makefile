# Everything a fresh machine with Python 3.11 and pip needs: `make run`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench bench-small demo-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## run: the service on the demo district 示范区 (three towns; SQLite default), http://127.0.0.1:8000
run: export GRIDSVC_DEMO_DIR ?= data/demo-district
run: $(STAMP)
	$(BIN)/gridsvc db upgrade
	$(BIN)/gridsvc demo load
	$(BIN)/gridsvc map coverage --out maps/coverage.html
	$(BIN)/gridsvc map hotspots --out maps/hotspots.html
	$(BIN)/gridsvc demo keys
	$(BIN)/gridsvc serve

## test: lint, type-check the core, and the whole test suite
test: $(STAMP) lint
	bash scripts/ensure-browser.sh  # Debian's chromium + a CJK font, for tests/maps (apt, once)
	bash scripts/ensure-postgres.sh  # Debian's postgresql-15 + PostGIS 3, for the tests' own cluster (apt, once)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check gridsvc tests benchmarks data
	$(BIN)/mypy gridsvc/core

## bench: the benchmarks (several minutes; prints ratios against geopandas)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_match.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_impact.py
	$(BIN)/python benchmarks/bench_hotspots.py

bench-small: $(STAMP)
	$(BIN)/python benchmarks/bench_match.py --small

## demo-data: regenerate data/demo (the town) and data/demo-district from data/demogen (deterministic)
demo-data: $(STAMP)
	$(BIN)/python data/generate_demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
