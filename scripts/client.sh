#!/usr/bin/env bash
# The FL servers' client (clients/python) on Python 3.9, the oldest it supports (FL server images):
#   scripts/client.sh test [pytest args]   its tests
#   scripts/client.sh mypy                 mypy --strict with python_version 3.9 (clients/python/pyproject.toml)
#   scripts/client.sh install              only install its venv (make test's install stage)
# Both run in a venv of their own, clients/python/.venv (git-ignored), made here on first use and
# installed from requirements/client.txt (hashes, `make lock`) plus the client itself (editable,
# without dependencies); reinstalled when that lock or the client's pyproject.toml changes. The
# project's pytest runs the client's tests on the project's Python too (they are in its testpaths).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
PYTHON39=${PYTHON39:-$(python_version 3.9)}
VENV=clients/python/.venv
LOCK=requirements/client.txt
stamp=$(cat "$LOCK" clients/python/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/installed" 2>/dev/null)" != "$stamp" ]; then
  ensure_uv
  echo "== installing the client and its test and type-check dependencies into $VENV from $LOCK"
  [ -x "$VENV/bin/python" ] || "$UV" venv --quiet --python "$PYTHON39" "$VENV"
  "$UV" pip sync --quiet --require-hashes --python "$VENV/bin/python" "$LOCK"
  "$UV" pip install --quiet --no-deps --python "$VENV/bin/python" -e clients/python
  echo "$stamp" >"$VENV/installed"
fi
cd clients/python

case "${1:-test}" in
  install) ;;
  test)
    shift || true
    echo "== pytest (clients/python, $(.venv/bin/python --version))"
    .venv/bin/python -m pytest -q "$@"
    ;;
  mypy)
    echo "== mypy (clients/python, for Python 3.9)"
    .venv/bin/python -m mypy
    ;;
  *)
    echo "usage: scripts/client.sh test [pytest args] | mypy | install" >&2
    exit 2
    ;;
esac
