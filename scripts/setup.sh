#!/usr/bin/env bash
# One-time (idempotent) set-up of everything the project runs: Node packages, the Python environments,
# and a terraform CLI configuration. Safe to re-run; does only what is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

require node 20 "Node.js 20+ (https://nodejs.org)"
require python3 3.11 "Python 3.11 (Glue 5.0 runs Python 3.11)"
require java 17 "Java 17 (Spark 3.5 needs it)"
require terraform 1.10 "terraform 1.10+ (use_lockfile needs 1.10)"

mkdir -p .build

step "Node packages (npm ci)"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json .build/package-lock.installed; then
  npm ci --no-audit --no-fund
  cp package-lock.json .build/package-lock.installed
else
  echo "up to date"
fi

step "Python environment .venv (requirements.lock)"
make_venv .venv requirements.lock
step "Python environment .venv-checkov (requirements-checkov.lock)"
make_venv .venv-checkov requirements-checkov.lock
step "Python environment .venv-airflow (airflow/requirements.lock)"
make_venv .venv-airflow airflow/requirements.lock

step "terraform CLI configuration"
scripts/terraform-cli-config.sh

step "JVM libraries .build/jars (jars.lock)"
scripts/fetch-jars.sh

step "Glue job wheels .build/glue-wheels (tools/warehouse/glue-wheels.lock)"
if ! cmp -s tools/warehouse/glue-wheels.lock .build/glue-wheels/.installed 2>/dev/null; then
  rm -rf .build/glue-wheels
  # Glue's platform, not this machine's: the warehouse loader job runs them (modules/warehouse).
  .venv/bin/python -m pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --require-hashes \
    -r tools/warehouse/glue-wheels.lock -d .build/glue-wheels
  cp tools/warehouse/glue-wheels.lock .build/glue-wheels/.installed
else
  echo "up to date"
fi
