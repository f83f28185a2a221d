"""The database: settings, credentials, engine and sessions, tables, FLIP's schema, migrations.

Importing the store registers the SnapStart hooks (:mod:`flip_models.store.snapstart`) with Lambda's
runtime: every handler imports it during the init a snapshot is taken after; elsewhere the
registration does nothing. The hooks need the engine (``db``), so they are registered here rather than
by ``db`` itself: the store's imports stay one-way.
"""

from flip_models.store import snapstart

snapstart.register()
