# The two commands a newcomer needs (see README):
#   make demo   set everything up, bring the lake up on local AWS and run it end to end
#   make test   set everything up and run every test
SHELL := /bin/bash
export TF_CLI_CONFIG_FILE := $(CURDIR)/.build/terraform.tfrc
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup test lint typecheck test-unit test-python test-integration demo

setup:
	@bash scripts/setup.sh

lint: setup
	biome check .
	ruff check glue-scripts tools
	ruff format --check glue-scripts tools

typecheck: setup
	tsc --noEmit

test-unit: setup
	jest --selectProjects unit

test-python: setup
	pytest

test-integration: setup
	jest --selectProjects integration --runInBand

test: lint typecheck test-unit test-python test-integration

# The embedded default (tools/local-lake/README.md): the whole lake on local AWS, end to end. DEMO_ARGS passes
# options, e.g. make demo DEMO_ARGS="--then destroy".
demo: setup
	tsx tools/local-lake/cli.ts up $(DEMO_ARGS)
