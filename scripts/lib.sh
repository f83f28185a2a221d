# Shared set-up steps for scripts/*.sh (sourced, not run).
#
# Every Python environment is installed from a lock with hashes: the project's .venv (and the
# Python 3.12 .venv312 for the handler tests) from uv.lock with `uv sync --locked`; the tools that pin
# their own dependencies (the SAM CLI, checkov) from requirements/<tool>.txt, each in a venv of its own
# under .tools/. `make lock` refreshes them all (scripts/lock.sh).

PYTHON=${PYTHON:-python3}
TOOLS=.tools
UV=$TOOLS/uv/bin/uv

# The path of pyenv's (or the PATH's) Python X.Y, e.g. `python_version 3.12`.
python_version() {
  local wanted=$1 candidate
  # pyenv's shims answer `command -v` even when the version is not active, so try each candidate.
  for candidate in $(ls -d "${PYENV_ROOT:-${HOME:-}/.pyenv}"/versions/"$wanted".*/bin/python3 2>/dev/null | sort -rV) \
    "python$wanted"; do
    if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$wanted'.split('.'))))" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Python $wanted is needed (pyenv install $wanted)" >&2
  return 1
}

# uv itself, pinned with hashes in requirements/uv.txt, in a venv of its own (bootstrapped with pip).
ensure_uv() {
  local wanted
  wanted=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements/uv.txt)
  if [ "$("$UV" --version 2>/dev/null | cut -d' ' -f2)" != "$wanted" ]; then
    echo "== installing uv $wanted into $TOOLS/uv"
    rm -rf "$TOOLS/uv"
    "$PYTHON" -m venv "$TOOLS/uv"
    "$TOOLS/uv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
      -r requirements/uv.txt
  fi
}

# A project environment from uv.lock (exactly: what the lock does not list is removed).
#   sync_project <venv> <python> [uv sync options]
sync_project() {
  local venv=$1 python=$2
  shift 2
  UV_PROJECT_ENVIRONMENT=$venv "$UV" sync --locked --quiet --python "$python" "$@"
}

ensure_venv() {
  ensure_uv
  echo "== installing the project and its dev tools into .venv from uv.lock"
  sync_project .venv "$PYTHON" --extra dev
}

# The same lock on the Lambda runtime's Python, for the handler tests.
ensure_venv312() {
  ensure_uv
  echo "== installing the project and its dev tools into .venv312 (Python 3.12) from uv.lock"
  sync_project .venv312 "$(python_version 3.12)" --extra dev
}

# A tool from its own lock: ensure_tool <name> <python>  →  $TOOLS/<name>/bin/...
ensure_tool() {
  local name=$1 python=$2
  ensure_uv
  if [ ! -x "$TOOLS/$name/bin/python" ]; then
    "$UV" venv --quiet --python "$python" "$TOOLS/$name"
  fi
  echo "== installing $name into $TOOLS/$name from requirements/$name.txt"
  "$UV" pip sync --quiet --require-hashes --python "$TOOLS/$name/bin/python" "requirements/$name.txt"
}

# Start the machine's PostgreSQL cluster when nothing answers on 127.0.0.1:5432.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    return 0
  fi
  echo "== starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "PostgreSQL is not installed and nothing answers on 127.0.0.1:5432" >&2
    return 1
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 1
  done
  echo "PostgreSQL did not become ready on 127.0.0.1:5432" >&2
  return 1
}

# Debian's Chromium, headless, for the browser test of the local API browser (tests/integration).
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  echo "== installing Debian's chromium (headless browser tests)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null; then
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null
  fi
}

# Debian's PgBouncer, for the load test through a pooler in transaction mode (bench/load.py, started
# by the bench on a loopback port of its own; the package's own service is not used).
ensure_pgbouncer() {
  if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
    return 0
  fi
  echo "== installing Debian's pgbouncer (the load test through a pooler)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q pgbouncer >/dev/null; then
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q pgbouncer >/dev/null
  fi
}
