# Every target installs what it needs, idempotently: a second run reuses what the first installed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# LocalStack 2026.3 needs Python 3.13; pyenv's shim only resolves it when selected, so ask pyenv for the path.
PYTHON313 ?= $(shell (command -v pyenv >/dev/null && v=$$(pyenv latest 3.13 2>/dev/null) && echo $$(pyenv root)/versions/$$v/bin/python3.13) || command -v python3.13)
PYTEST_WORKERS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Python keeps the bytecode it compiles (in __pycache__, ignored by git) even where the environment says not to:
# otherwise every pytest worker, checkov run and command-line test recompiles each module it imports (a third of
# lint's time and 5 s of each worker's collection, measured).
unexport PYTHONDONTWRITEBYTECODE

VENV := .venv
LOCALSTACK_VENV := .venv-localstack
CHECKOV_VENV := .venv-checkov
ORACLE_MODULES := tests/oracle/node_modules
# The harness package (tests/harness, imported as `harness`) for the tools and the bench; pytest has its own setting.
WITH_HARNESS := PYTHONPATH=tests
# uv (requirements/uv.txt, installed into .venv by pip) installs the three environments: a fresh set-up takes
# about a third of pip's time (bench/README.md).
UV := $(VENV)/bin/uv
UV_INSTALL := $(UV) pip install --quiet

.PHONY: help setup test demo lint docs bench clean

help:
	@echo "make demo   start LocalStack, apply examples/complete, print the policy, its access matrix and the audit, clean up"
	@echo "make test   everything CI runs: lint (validate aside), offline terraform tests, evaluator, oracle, plan and apply tiers"
	@echo "make lint   terraform fmt/validate, checkov, ruff, mypy, docs up to date"
	@echo "make docs   regenerate the README tables and behaviour section"
	@echo "make bench  benchmarks of this project's code (writes bench/results.md); PHASES=a,b for others (bench/README.md)"
	@echo "make clean  remove virtual environments, node modules and build files"

# The environment is created without pip (ensurepip alone can take longer than everything uv then installs);
# $(PYTHON)'s own pip puts uv into it.
$(UV): requirements/uv.txt
	@echo "==> uv (in $(VENV))"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv --without-pip $(VENV)
	@$(PYTHON) -m pip --python $(VENV)/bin/python install --quiet -r requirements/uv.txt
	@touch $@

$(VENV)/.installed: requirements/harness.txt requirements/harness-constraints.txt pyproject.toml $(UV)
	@echo "==> harness virtual environment ($(VENV))"
	@$(UV_INSTALL) --python $(VENV)/bin/python -r requirements/harness.txt -c requirements/harness-constraints.txt -e .
	@touch $@

$(LOCALSTACK_VENV)/.installed: requirements/localstack-constraints.txt | $(UV)
	@echo "==> LocalStack virtual environment ($(LOCALSTACK_VENV), Python 3.13)"
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or set PYTHON313=/path/to/python3.13"; exit 1; }
	@test -x $(LOCALSTACK_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON313) $(LOCALSTACK_VENV)
	@$(UV_INSTALL) --python $(LOCALSTACK_VENV)/bin/python -c requirements/localstack-constraints.txt "localstack-core[runtime]" service-identity
	@$(UV) pip check --quiet --python $(LOCALSTACK_VENV)/bin/python
	@touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt | $(UV)
	@echo "==> checkov virtual environment ($(CHECKOV_VENV))"
	@test -x $(CHECKOV_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(CHECKOV_VENV)
	@$(UV_INSTALL) --python $(CHECKOV_VENV)/bin/python -r requirements/checkov.txt
	@touch $@

$(ORACLE_MODULES)/.installed: tests/oracle/package.json tests/oracle/package-lock.json
	@echo "==> oracle npm packages ($(ORACLE_MODULES))"
	@npm ci --prefix tests/oracle --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed $(LOCALSTACK_VENV)/.installed $(CHECKOV_VENV)/.installed $(ORACLE_MODULES)/.installed

# make test runs every lint step but `terraform validate`: the plan tiers plan every directory it checks (the root
# module, modules/scp, each example: tests/module/test_examples.py), and a plan validates first. make lint runs all.
TEST_LINT_STEPS := fmt checkov parliament ruff mypy docs

# The four environments are installed side by side (a third less time on a fresh clone, measured).
test:
	@$(MAKE) --no-print-directory -j 4 setup
	@echo "==> lint ($(TEST_LINT_STEPS); validate is in the plan tiers)"
	@bash tools/lint.sh $(TEST_LINT_STEPS)
	@echo "==> pytest (terraform offline tier, evaluator, oracle, plan and apply tiers against LocalStack)"
	@$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

demo: $(VENV)/.installed $(LOCALSTACK_VENV)/.installed $(ORACLE_MODULES)/.installed
	@$(WITH_HARNESS) $(VENV)/bin/python -m tools.demo

lint: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	@echo "==> lint"
	@bash tools/lint.sh

docs: $(VENV)/.installed
	@$(VENV)/bin/python -m tools.tfdocs
	@$(VENV)/bin/python -m tools.behaviour
	@$(VENV)/bin/python -m tools.behaviour --scp

# PHASES=overhead,scaling,accounts,scp re-runs phases outside the default set (bench/README.md); empty: the default set.
PHASES ?=
bench: setup
	@$(WITH_HARNESS) $(VENV)/bin/python -m bench $(if $(PHASES),--only $(PHASES))

clean:
	rm -rf $(VENV) $(LOCALSTACK_VENV) $(CHECKOV_VENV) $(ORACLE_MODULES) .build .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name .terraform -type d -prune -exec rm -rf {} + ; find . -name '.terraform.lock.hcl' -delete
