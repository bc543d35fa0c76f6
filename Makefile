# vault-state: two commands for a fresh clone, `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint schema clean bench bench-fleet

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Start a throwaway OpenBao dev server, plan, apply, plan again (No changes), stop it.
demo: $(STAMP)
	TOKEN_REVIEWER_JWT=demo-reviewer-jwt-not-real $(PY) -m vault_state.sandbox -- sh -c '\
	  set -e; \
	  echo "== vault-state plan (empty server)"; $(VENV)/bin/vault-state plan -f examples/state.yaml; \
	  echo "== vault-state apply --auto-approve"; $(VENV)/bin/vault-state apply -f examples/state.yaml --auto-approve; \
	  echo "== vault-state plan (converged)"; $(VENV)/bin/vault-state plan -f examples/state.yaml'

lint: $(STAMP)
	$(VENV)/bin/ruff check vault_state tests
	$(VENV)/bin/mypy

test: $(STAMP) lint
	$(PY) -m pytest -n 2 --dist loadfile -q  # loadfile: the HA tests share one cluster (tests/test_ha.py)

# vault-state against the hand-run bao CLI and the raw-HTTP floor (minutes; not part of `make test`).
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m benchmarks.run

bench-fleet: $(STAMP)
	$(PY) -m benchmarks.fleet

schema: $(STAMP)
	$(VENV)/bin/vault-state schema > schemas/state.schema.json
	$(PY) -m vault_state.plan.schema_kinds schemas/plan.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
