# The two commands a newcomer needs (see README):
#   make demo   set everything up, bring the lake up on local AWS and run it end to end
#   make test   set everything up and run every test
SHELL := /bin/bash
export TF_CLI_CONFIG_FILE := $(CURDIR)/.build/terraform.tfrc
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup test test-prereqs lint typecheck test-unit test-python test-terraform test-integration demo \
	test-airflow

setup:
	@bash scripts/setup.sh

lint: setup
	biome check .
	ruff check glue-scripts tools
	ruff format --check glue-scripts tools
	ruff check airflow
	ruff format --check airflow

typecheck: setup
	tsc --noEmit

test-unit: setup
	jest --selectProjects unit

test-python: setup
	pytest

test-terraform: setup
	jest --selectProjects terraform

test-integration: setup
	jest --selectProjects integration

# The test data outside the project (README "What the test suite needs"): checked first, named when missing.
test-prereqs:
	@scripts/check-test-prereqs.sh

# The Airflow DAG in its own environment (airflow/README.md): DagBag, and dag.test() against moto's server.
test-airflow: setup
	.venv-airflow/bin/python -m pytest airflow/tests

test: test-prereqs lint typecheck test-unit test-python test-terraform test-integration test-airflow

# The local lake (tools/local-lake/README.md): the whole lake on local AWS, end to end, ending with the serving
# warehouse on a real local PostgreSQL (docs/warehouse.md: one dashboard from the marts beside the local Athena
# engine's answer). DEMO_ARGS passes options, e.g. make demo DEMO_ARGS="--then destroy". Then the hands-off refresh through its state machine on a
# fresh local AWS (docs/orchestration.md), a few seconds.
demo: setup
	tsx tools/local-lake/cli.ts up $(DEMO_ARGS)
	tsx tools/orchestration/cli.ts demo

