#!/usr/bin/env bash
# The FL servers' client (clients/python) on Python 3.9, the oldest it supports (FL server images):
#   scripts/client.sh test [pytest args]   its tests
#   scripts/client.sh mypy                 mypy --strict with python_version 3.9 (clients/python/pyproject.toml)
# Both run in a venv of their own, clients/python/.venv (git-ignored), made here on first use and
# reinstalled when pyproject.toml changes. The project's pytest runs the client's tests on the
# project's Python too (they are in its testpaths).
set -euo pipefail
cd "$(dirname "$0")/../clients/python"

PYTHON39=${PYTHON39:-$(ls -d "$HOME"/.pyenv/versions/3.9*/bin/python 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PYTHON39" ] || ! "$PYTHON39" -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null; then
  echo "Python 3.9 not found: install it with pyenv, or set PYTHON39" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating clients/python/.venv with $("$PYTHON39" --version)"
  "$PYTHON39" -m venv .venv
fi
if [ ! -f .venv/installed ] || [ pyproject.toml -nt .venv/installed ]; then
  echo "== installing the client, its test and type-check dependencies into clients/python/.venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,typecheck]'
  touch .venv/installed
fi

case "${1:-test}" in
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
    echo "usage: scripts/client.sh test [pytest args] | mypy" >&2
    exit 2
    ;;
esac
