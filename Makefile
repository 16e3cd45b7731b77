# contribnet — the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STORE ?= sqlite:///./contribnet.db
PORT ?= 8000
export CONTRIBNET_CACHE ?= $(CURDIR)/.cache

.PHONY: run test browser bench bench-deps bench-l lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $@

## Install, load the demo network into the embedded store, serve the API and the leaders' page.
run: $(BIN)/.installed
	@mkdir -p .cache
	@[ -s .cache/admin-key ] || $(BIN)/python -c "import secrets; print('cn_admin_' + secrets.token_urlsafe(24))" > .cache/admin-key
	$(BIN)/contribnet demo --store $(STORE)
	$(BIN)/contribnet settle --store $(STORE)
	@echo "admin API key (bearer): $$(cat .cache/admin-key)"
	CONTRIBNET_ADMIN_KEY=$$(cat .cache/admin-key) $(BIN)/contribnet serve --store $(STORE) --port $(PORT)

## Install, lint, and run every test, the Neo4j ones against a real Neo4j 5.26 built from Maven Central.
test: $(BIN)/.installed browser lint
	$(BIN)/python -m pytest

## Debian's Chromium (and CJK fonts for the staff names) for the leaders' page browser tests.
browser:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk" || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

## What the benchmarks need beside the tests: the peers they compare with.
bench-deps: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test,spark,bench]'

## Benchmarks; results are appended to benchmarks/results.md.
bench: bench-deps
	$(BIN)/python -m benchmarks.ingest
	@for b in credit generate import_file settle scale graph flags profiles page soak hostile spark; do \
	  if [ -f benchmarks/$$b.py ]; then $(BIN)/python -m benchmarks.$$b || exit 1; fi; \
	done
	$(BIN)/python tools/scenario_table.py

## The l network (1M deals, 40.5M events): the scale table on SQLite (generate, import into
## $(CONTRIBNET_CACHE)/bench-scale/l-1.db, settle, latency; about an hour), then export + Spark
## recompute on that store. Apart from `bench`: it needs about 30 GB of disk.
bench-l: bench-deps
	$(BIN)/python -m benchmarks.scale --sizes demo,l --store sqlite
	$(BIN)/python -m benchmarks.spark --size l --store sqlite:///$(CONTRIBNET_CACHE)/bench-scale/l-1.db \
	  --reference-deals 100000

## The README's table of credit models x scenarios (which models may pay), from the fairness check.
.PHONY: scenario-table
scenario-table: $(BIN)/.installed
	$(BIN)/python tools/scenario_table.py

## ruff (lint and format) on all the Python, strict mypy on the package; `make test` runs it first.
lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy src/contribnet

clean:
	rm -rf $(VENV) .cache contribnet.db contribnet.db-wal contribnet.db-shm
