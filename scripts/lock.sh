#!/usr/bin/env bash
# `make lock`: refresh every lock to the newest releases the version ranges allow, with hashes.
#   uv.lock                   the project (pyproject.toml: runtime dependencies and the local/dev extras)
#   shared/requirements.txt   the layer's runtime dependencies, exported from uv.lock (shared/Makefile)
#   requirements/<tool>.txt   tools that pin their own dependencies, each installed in a venv of its own:
#                             uv itself, the SAM CLI and checkov (from requirements/<tool>.in)
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
echo "== locks refreshed; review \`git diff\`, then make test"
