# 平安通: the two commands a newcomer needs are `make run` and `make test` (see README.md).
.PHONY: run test check lint format typecheck pytest bootstrap bench clean

VENV := .venv/bin

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	$(VENV)/pingantong run

# The whole suite, as CI runs it: lint, format check, types, tests with coverage.
test: check

check: bootstrap
	@bash scripts/bootstrap.sh --test
	$(VENV)/ruff check pingantong
	$(VENV)/ruff format --check pingantong
	$(VENV)/mypy pingantong
	$(VENV)/pytest --cov --cov-report=term:skip-covered --cov-report=xml:var/coverage.xml $(PYTEST_ARGS)

lint:
	$(VENV)/ruff check pingantong
format:
	$(VENV)/ruff check --fix pingantong
	$(VENV)/ruff format pingantong
typecheck:
	$(VENV)/mypy pingantong
pytest:
	$(VENV)/pytest $(PYTEST_ARGS)

bench: bootstrap
	$(VENV)/pingantong bench

clean:
	rm -rf .venv .tools node_modules pingantong/static/vendor var/static
