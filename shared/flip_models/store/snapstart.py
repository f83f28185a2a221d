"""Lambda SnapStart runtime hooks (``UseSnapStart`` in template.yaml): what a restored copy must not share.

With SnapStart, Lambda runs a version's init once, when the version is published (the handler module's
imports, hence the whole stack the function needs), then the before-snapshot hooks, and snapshots the
microVM; every new container of that version resumes from a copy of it, after the after-restore hooks.

- :func:`before_snapshot` warms what the first event would otherwise pay for: the settings, the ORM
  mappers, the container's engine with its dialect initialised (one connection, which learns the
  server's version and settings) and the statements SQLAlchemy compiled on it; then it closes that
  connection and drops the cached secret, so the snapshot holds neither a socket nor a password.
  Warming is best effort: a database or Secrets Manager out of reach at publish time is logged, never
  a failed deploy (the first event then does what was skipped).
- :func:`after_restore` forgets any pooled connection without touching its socket (another copy holds
  the same one) and drops the cached secret, so each copy opens its own connection with the secret as
  it is now (``store/db.py`` reads the secret at each new connection).

The Lambda runtime ships ``snapshot_restore_py`` (PyPI's ``snapshot-restore-py``; not in the layer: the
runtime's own copy is the one whose hooks it calls). Elsewhere it is absent and :func:`register` does
nothing; the tests call the hooks directly around a simulated snapshot.
"""

from __future__ import annotations

import importlib
from typing import Any

from flip_models.store import credentials, db

_registered = False


def register() -> bool:
    """Register the hooks with the runtime's ``snapshot_restore_py`` (once); False where it is absent."""
    global _registered
    if _registered:
        return True
    try:
        runtime: Any = importlib.import_module("snapshot_restore_py")
    except ImportError:
        return False
    runtime.register_before_snapshot(before_snapshot)
    runtime.register_after_restore(after_restore)
    _registered = True
    return True


def before_snapshot() -> None:
    """Warm settings, mappers, engine and dialect; leave no connection open and no secret cached."""
    from sqlalchemy import text
    from sqlalchemy.orm import configure_mappers

    from flip_models.observability import logger
    from flip_models.store.settings import get_settings

    try:
        get_settings()
        # Outside SnapStart a function declares only the tables it touches (store/tables); in a
        # snapshot declaring all of them is free for every restored copy.
        from flip_models.store.tables import Base  # noqa: F401 (declares every table)

        configure_mappers()
        with db.session_scope() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # best effort: never fail the version's publication
        logger.warning("snapstart warm-up skipped", extra={"reason": type(error).__name__})
    finally:
        if db.get_engine.cache_info().currsize:
            db.get_engine().dispose()
        credentials.forget_credentials()  # the engine itself holds no password (store/db.py)


def after_restore() -> None:
    """Drop whatever the snapshot may hold: a pooled connection (unclosed: its socket is shared with the
    other copies) and the cached secret."""
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose(close=False)
    # The secret as it is now (a rotation while the snapshot waited); the last login stays as the
    # fallback while Secrets Manager is out of reach (empty in a restored copy: dropped before it).
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
