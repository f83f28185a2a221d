#!/usr/bin/env bash
# The README's run command: install, then the Docker-free local stack (flip-models dev).
# Embedded PostgreSQL under .local/pgdata unless DATABASE_URL is set; moto's SQS server unless
# AWS_ENDPOINT_URL points at LocalStack. Extra arguments go to flip-models dev (e.g. --port 3100 --ingress-port 3101).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_venv
exec .venv/bin/flip-models dev "$@"
