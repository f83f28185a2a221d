"""The local stack's PostgreSQL: ``DATABASE_URL`` when given, else an embedded server (pgserver)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _private_directory(path: str | None) -> bool:
    """Whether ``path`` is a runtime directory as the XDG spec wants it: the user's own, mode 0700."""
    import os
    import stat

    if not path:
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o700


class EmbeddedPostgres:
    """A PostgreSQL server from the ``pgserver`` wheel, its data kept under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; returns a pg8000 URL over its unix socket."""
        import os

        # pgserver keeps its lock files in the user's runtime directory (platformdirs, read when
        # pgserver is imported). Unset, or not private as the XDG spec wants it (a directory of the
        # user's, mode 0700), platformdirs warns and falls back: give it a private one of the stack's.
        if not _private_directory(os.environ.get("XDG_RUNTIME_DIR")):
            runtime_dir = self.data_dir.parent / "run"
            runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            runtime_dir.chmod(0o700)  # one made before with the umask's mode (0755)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
        import pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        uri = urlsplit(self._server.get_uri())
        socket_dir = parse_qs(uri.query)["host"][0]
        return f"postgresql+pg8000://postgres@/postgres?unix_sock={socket_dir}/.s.PGSQL.5432"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
