#!/usr/bin/env bash
# `make lock`: refresh every lock to the newest releases the version ranges allow, with hashes.
#   uv.lock                   the project (pyproject.toml: runtime dependencies and the local/dev extras)
#   shared/requirements.txt   the layer's runtime dependencies, exported from uv.lock (shared/Makefile)
#   requirements/<tool>.txt   tools that pin their own dependencies, each installed in a venv of its own:
#                             uv itself, the SAM CLI and checkov (from requirements/<tool>.in)
#   requirements/client.txt   the FL servers' client's test and type-check venv (Python 3.9, scripts/client.sh)
#   requirements/localstack.txt  LocalStack's venv (Python 3.13, scripts/localstack.sh)
# Then review the diff, run `make test`, and commit the lock files together.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_uv
"$UV" lock --upgrade
"$UV" export --frozen --no-dev --no-emit-project --format requirements-txt --quiet \
  --output-file shared/requirements.txt
for tool in sam-cli checkov uv; do
  python=3.12
  [ "$tool" = uv ] && python=3.11
  "$UV" pip compile --quiet --upgrade --universal --python-version "$python" --generate-hashes \
    --custom-compile-command "make lock" "requirements/$tool.in" --output-file "requirements/$tool.txt"
done
"$UV" pip compile --quiet --upgrade --universal --python-version 3.9 --generate-hashes \
  --no-emit-package flip-fl-reporter --custom-compile-command "make lock" \
  requirements/client.in --output-file requirements/client.txt
# Not --universal: LocalStack's pins hold for the Python 3.13 it runs on, not for every later one.
"$UV" pip compile --quiet --upgrade --python-version 3.13 --generate-hashes \
  --custom-compile-command "make lock" requirements/localstack.in --output-file requirements/localstack.txt
echo "== locks refreshed; review \`git diff\`, then make test"
