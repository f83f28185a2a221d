"""A PostgreSQL cluster of its own and a PgBouncer in front of it, for the load test (``bench/load.py``)
and its tests: started on free loopback ports, stopped and removed afterwards.

PostgreSQL's server binaries are the machine's (Debian: ``/usr/lib/postgresql/N/bin``), PgBouncer is
Debian's package (``scripts/lib.sh``'s ``ensure_pgbouncer`` installs it). Both refuse to run as
root: as root they run as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text


def free_port() -> int:
    """A TCP port nothing listens on now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin() -> Path:
    """The newest PostgreSQL server binaries of the machine (Debian: ``/usr/lib/postgresql/N/bin``)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL's server binaries (initdb, postgres) were not found")


def pgbouncer_bin() -> str:
    """Debian's ``pgbouncer`` (``scripts/lib.sh``'s ``ensure_pgbouncer`` installs it)."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        raise RuntimeError("pgbouncer is not installed (bash -c 'source scripts/lib.sh; ensure_pgbouncer')")
    return found


def _service_user() -> str | None:
    """PostgreSQL and PgBouncer refuse to run as root: as root they run as ``postgres``."""
    return "postgres" if os.geteuid() == 0 else None


#: Attempts at a free port: another process may take the port between the probe and the bind.
_PORT_ATTEMPTS = 5


def _started(process: subprocess.Popen[bytes], log: Path, ready: str, what: str) -> bool:
    """Wait until ``ready`` appears in ``log`` (True), or the process exits because its port was
    taken meanwhile (False: try another port). Anything else raises, with the log's end."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text_ = log.read_text(errors="replace") if log.exists() else ""
        if ready in text_:
            return True
        if process.poll() is not None:
            if "Address already in use" in text_ or "could not bind" in text_:
                return False
            raise RuntimeError(f"{what} exited ({process.returncode}): {text_[-2000:]}")
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"{what} was not ready within 60 s: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Cluster:
    port: int
    directory: Path

    def url(self, user: str = "postgres", database: str = "postgres", port: int | None = None) -> str:
        return f"postgresql+pg8000://{user}@127.0.0.1:{port or self.port}/{database}"


@contextmanager
def throwaway_cluster(max_connections: int = 100) -> Iterator[Cluster]:
    """A PostgreSQL cluster of its own: ``initdb`` into a temporary directory, trust authentication,
    a free loopback port, ``max_connections``; stopped (fast shutdown) and removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="flip-load-"))
    try:
        user = _service_user()
        if user:
            shutil.chown(directory, user)
        binaries = postgres_bin()
        data = directory / "data"
        initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        subprocess.run(  # noqa: S603 - the machine's initdb, our arguments
            [*initdb, "--no-sync"], check=True, capture_output=True, user=user
        )
        for attempt in range(_PORT_ATTEMPTS):
            port = free_port()
            log = directory / f"postgres-{attempt}.log"
            with open(log, "wb") as output:
                server = subprocess.Popen(  # noqa: S603 - the machine's postgres, our arguments
                    [
                        str(binaries / "postgres"),
                        *("-D", str(data), "-p", str(port), "-k", str(directory)),
                        *("-c", "listen_addresses=127.0.0.1", "-c", f"max_connections={max_connections}"),
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    user=user,
                )
            if _started(server, log, "database system is ready to accept connections", "PostgreSQL"):
                break
        else:
            raise RuntimeError(f"PostgreSQL found no free port in {_PORT_ATTEMPTS} attempts")
        try:
            yield Cluster(port, directory)
        finally:
            _stop(server)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def pgbouncer(
    cluster: Cluster, pool_size: int, users: Sequence[str], ignore_startup_parameters: Sequence[str] = ()
) -> Iterator[int]:
    """PgBouncer in transaction mode in front of ``cluster`` on a free loopback port (yielded): at
    most ``pool_size`` server connections per database, every client queued for one, trust auth
    for ``users``; the startup parameters it does not know and must ignore (else it refuses the
    connection) listed in ``ignore_startup_parameters``."""
    workdir = Path(tempfile.mkdtemp(prefix="flip-pgbouncer-"))
    try:
        user = _service_user()
        (workdir / "users.txt").write_text("".join(f'"{name}" ""\n' for name in users))
        if user:
            shutil.chown(workdir, user)
        for attempt in range(_PORT_ATTEMPTS):
            port = free_port()
            log = workdir / f"pgbouncer-{attempt}.log"
            ini = workdir / f"pgbouncer-{attempt}.ini"
            ini.write_text(
                f"""[databases]
* = host=127.0.0.1 port={cluster.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_db_connections = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 2000
query_wait_timeout = 120
ignore_startup_parameters = {",".join(ignore_startup_parameters)}
logfile = {log}
pidfile = {workdir / f"pgbouncer-{attempt}.pid"}
log_connections = 0
log_disconnections = 0
"""
            )
            if user:
                for path in workdir.iterdir():
                    shutil.chown(path, user)
            process = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer, our configuration
                [pgbouncer_bin(), "-q", str(ini)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                user=user,
            )
            if _started(process, log, "process up", "PgBouncer"):
                break
        else:
            raise RuntimeError(f"PgBouncer found no free port in {_PORT_ATTEMPTS} attempts")
        try:
            yield port
        finally:
            _stop(process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def role_database(
    cluster: Cluster,
    role: str,
    database: str,
    settings: Mapping[str, str],
    flip_schema_sql: Path | None = None,
) -> str:
    """A login role without superuser rights (so it cannot take the superuser's reserved
    connections), with ``settings`` on it (``ALTER ROLE … SET``: every session of the role has them,
    through a pooler too), and a database it owns, migrated to head as that role with the project's
    Alembic migrations (with ``flip_schema_sql``, FLIP's database: that DDL applied as the role first);
    returns the role's URL to it."""
    from flip_local.databases import apply_sql_file
    from flip_models.store.migrate import upgrade

    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            for name, value in settings.items():
                connection.execute(text(f"ALTER ROLE \"{role}\" SET {name} = '{value}'"))
            connection.execute(text(f'CREATE DATABASE "{database}" OWNER "{role}"'))
    finally:
        admin.dispose()
    url = cluster.url(role, database)
    engine = create_engine(url)
    try:
        if flip_schema_sql is not None:
            apply_sql_file(engine, flip_schema_sql)
        upgrade(engine)
    finally:
        engine.dispose()
    return url
