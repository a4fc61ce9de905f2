# Two commands on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install check bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Migrates the schema, loads the baseline from seeds/ and starts the service (SQLite default).
run: install
	$(VENV)/bin/watcher run

test: install
	$(PY) -m pytest -q

# Lint, types (mypy strict on watcher/), no import cycles, and the shipped rules and their tests.
check: install
	$(VENV)/bin/ruff check watcher tests bench tools
	$(VENV)/bin/mypy
	$(PY) tools/import_cycles.py watcher
	$(VENV)/bin/watcher rules check
	$(VENV)/bin/watcher rules test

bench: install
	$(PY) bench/accuracy.py
	$(PY) bench/rules_scale.py
	$(PY) bench/gazetteer.py
	$(PY) bench/extraction.py
	$(PY) bench/polling.py

clean:
	rm -rf $(VENV) watcher.db watcher.db-wal watcher.db-shm .pytest_cache
