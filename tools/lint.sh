#!/usr/bin/env bash
# Static checks: terraform fmt and validate, checkov, parliament, ruff, mypy, README tables and behaviour section.
#
#   tools/lint.sh [STEP...]    STEP: fmt validate checkov parliament ruff mypy docs (default: all; they run side by
#                              side, their output is shown in that order, and every failing step is named)
#
# Expects .venv and .venv-checkov (`make setup` creates them). With the provider mirror
# MFA_REQUIRED_PROVIDER_MIRROR (default /opt/tf-plugins) present, terraform init works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=tests  # the harness package, for mypy and the tools that use it
shopt -s nullglob

VENV=.venv
CHECKOV=.venv-checkov/bin/checkov
BUILD=$PWD/.build

python_dirs=()
for dir in src tests bench tools; do
  if [[ -d $dir ]]; then python_dirs+=("$dir"); fi
done

export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
# The harness writes the same CLI configuration as for the tests: the provider mirror when there is one.
TF_CLI_CONFIG_FILE=$("$VENV/bin/python" -c 'from harness.terraform import BUILD_DIR, cli_config; print(cli_config(BUILD_DIR / "lint.tfrc"))')
export TF_CLI_CONFIG_FILE

step_fmt() {
  # -recursive skips hidden directories (.terraform, .venv*).
  terraform fmt -check -recursive -diff -no-color
}

validate_one() {
  terraform -chdir="$1" init -backend=false -input=false -no-color && terraform -chdir="$1" validate -no-color
}

step_validate() {
  # The directories in parallel: each command is mostly the provider's start-up, on one CPU.
  local dir dirs=() pids=() status=0 i
  mkdir -p "$BUILD/validate"
  for dir in . modules/*/ examples/*/; do
    dir=${dir%/}
    dirs+=("$dir")
    validate_one "$dir" >"$BUILD/validate/${dir//\//_}.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!dirs[@]}"; do
    echo "terraform validate: ${dirs[$i]}"
    if wait "${pids[$i]}"; then
      grep -v "^$" "$BUILD/validate/${dirs[$i]//\//_}.log" | tail -n 1
    else
      cat "$BUILD/validate/${dirs[$i]//\//_}.log" >&2
      status=1
    fi
  done
  return $status
}

step_checkov() {
  "$CHECKOV" -d . --framework terraform --skip-download --quiet --compact \
    --skip-path '\.venv' --skip-path 'tests/' --skip-path 'node_modules/' --skip-path '\.terraform/'
}

step_ruff() {
  "$VENV/bin/ruff" check "${python_dirs[@]}"
  "$VENV/bin/ruff" format --check "${python_dirs[@]}"
}

step_mypy() {
  # Directories named explicitly: pyproject's list includes ones that may not exist yet.
  "$VENV/bin/mypy" "${python_dirs[@]}"
}

step_parliament() {
  # Every rendered policy the plan tier checks; expected findings and why: .parliament.yaml.
  "$VENV/bin/python" tools/parliament_check.py .parliament.yaml tests/data/policies/*.json
}

step_docs() {
  "$VENV/bin/python" -m tools.tfdocs --check
  "$VENV/bin/python" -m tools.behaviour --check
  "$VENV/bin/python" -m tools.behaviour --scp --check
}

steps=("$@")
if [[ ${#steps[@]} -eq 0 ]]; then steps=(fmt validate checkov parliament ruff mypy docs); fi
for step in "${steps[@]}"; do
  if ! declare -F "step_$step" >/dev/null; then
    echo "unknown step: $step (fmt validate checkov parliament ruff mypy docs)" >&2
    exit 2
  fi
done

# The steps run at the same time (each mostly one process on one CPU: checkov and mypy alone take half a minute one
# after the other on a fresh clone); their output is shown in order, each step's whole, and every failure is reported.
mkdir -p "$BUILD/lint"
pids=()
for step in "${steps[@]}"; do
  ( set -euo pipefail; "step_$step" ) >"$BUILD/lint/$step.log" 2>&1 &
  pids+=($!)
done
failed=()
for i in "${!steps[@]}"; do
  echo "==> ${steps[$i]}"
  if wait "${pids[$i]}"; then
    cat "$BUILD/lint/${steps[$i]}.log"
  else
    cat "$BUILD/lint/${steps[$i]}.log" >&2
    failed+=("${steps[$i]}")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint failed: ${failed[*]}" >&2
  exit 1
fi
