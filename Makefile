# The commands the README names. `make test` installs everything it needs first.
.PHONY: run test lint format openapi bench migrate seed-demo clean lock audit deploy-local

run:        ## install, then the local stack (flip-models dev): API :3000, SQS pollers, demo data
	bash scripts/run.sh $(ARGS)

test:       ## install from the locks, then ruff + mypy + pip-audit + pytest (PostgreSQL, LocalStack) + handlers on 3.12
	bash scripts/test.sh

lock:       ## refresh uv.lock, shared/requirements.txt and requirements/*.txt (every lock, with hashes)
	bash scripts/lock.sh

audit:      ## pip-audit the locked dependencies (says so when its vulnerability feed is unreachable)
	.venv/bin/python scripts/audit.py

deploy-local: ## sam build + sam deploy to LocalStack, printing the stack's outputs (ARGS=--delete removes it)
	bash scripts/deploy_local.sh $(ARGS)

lint:       ## ruff and mypy only (mypy of clients/python in its Python 3.9 venv)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	bash scripts/client.sh mypy

bench:      ## the benchmarks (flip-models bench): table on stdout, figures in bench/results.json
	bash -c 'source scripts/lib.sh; ensure_pgbouncer'
	bash scripts/localstack.sh start  # the FL ingress's section sends to LocalStack's SQS (already running: kept)
	.venv/bin/flip-models bench

openapi:    ## regenerate openapi.json from the API functions' resolvers
	.venv/bin/python scripts/openapi.py

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

clean:
	rm -rf .venv .venv312 .tools .pytest_cache .mypy_cache .ruff_cache .aws-sam clients/python/.venv
