# The runbook of a developer: `make check` is what CI runs (see .ci/run and README).
UV ?= uv
RUN = $(UV) run --frozen

.PHONY: install lint format typecheck test check fixtures

install:  ## the locked environment, with dev tools
	$(UV) sync --frozen

lint: install  ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install  ## apply ruff's formatting and safe fixes
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: install  ## mypy --strict with the pydantic plugin
	$(RUN) mypy

test: install  ## pytest, warnings as errors
	$(RUN) pytest

check: lint typecheck test  ## everything CI checks

fixtures: install  ## regenerate tests/fixtures/invalid/ and the stack file schema after a model change
	$(RUN) python -m tests.fixtures.invalid_cases
	$(RUN) orion schema > docs/stack-file.schema.json
