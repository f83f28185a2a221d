# The commands the README names. `make test` installs everything it needs first.
.PHONY: run test lint format openapi bench migrate seed-demo clean

run:        ## install, then the local stack (flip-models dev): API :3000, SQS pollers, demo data
	bash scripts/run.sh $(ARGS)

test:       ## install, then ruff + mypy + pytest against a fresh PostgreSQL database
	bash scripts/test.sh

lint:       ## ruff and mypy only (mypy of clients/python in its Python 3.9 venv)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	bash scripts/client.sh mypy

bench:      ## the benchmarks (flip-models bench): table on stdout, figures in bench/results.json
	.venv/bin/flip-models bench

openapi:    ## regenerate openapi.json from the API functions' resolvers
	.venv/bin/python scripts/openapi.py

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .aws-sam clients/python/.venv
