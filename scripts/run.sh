#!/usr/bin/env bash
# The README's run command (for now): install, then migrate and seed the demo data into a local
# database. The HTTP API and queue pollers of the local stack arrive with issue 5.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_venv

if [ -z "${DATABASE_URL:-}" ]; then
  ensure_postgres
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'flip_dev'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE flip_dev'
  export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/flip_dev
fi
.venv/bin/flip-models migrate
.venv/bin/flip-models seed-demo
