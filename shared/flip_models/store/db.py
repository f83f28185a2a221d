"""Engine per container, session per invocation, driver errors translated at this boundary (SPEC §6).

Credentials come from ``DATABASE_URL`` or from the RDS secret (:mod:`flip_models.store.credentials`:
each new connection takes the cached secret). The engine holds at most one connection per
container, pre-pings it (a connection killed between two warm invocations is replaced
transparently) and recycles it. With ``DB_SSL`` on, TLS is required through an explicit SSL context:
pg8000 never falls back to plaintext when it is given one.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from flip_models.errors import DatabaseUnavailableError, FlipError
from flip_models.store.credentials import database_url, forget_credentials, log_in_with_the_current_secret
from flip_models.store.settings import Settings, get_settings

#: SQLSTATE classes and codes after which a retry can succeed: connection exceptions, insufficient
#: resources, operator intervention (shutdown, statement timeout: 57014), serialization failure,
#: deadlock, lock not available (lock timeout: 55P03).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57", "40001", "40P01", "55P03", "28P01")
_INVALID_PASSWORD = "28P01"  # noqa: S105 (an SQLSTATE, not a password)


#: The service's sessions as ``pg_stat_activity`` shows them.
APPLICATION_NAME = "flip-models"

#: Execution option of every engine built here: True when a statement that runs on every
#: invocation may be a *named* server-side prepared statement of the connection (prepared once,
#: then one round trip and a kept plan), False when it must go unnamed. A named statement is session
#: state: behind a transaction-mode pooler (``DB_BEHIND_POOLER``) the next transaction may run on
#: another server connection, where the name is unknown or taken (PgBouncer before 1.21), or the
#: proxy pins the client to one server connection for good (RDS Proxy). The rule lives here, set
#: from the settings the engine is built from; :mod:`flip_models.fl.attribution` follows it.
NAMED_STATEMENTS = "flip_named_statements"


class DatabaseError(FlipError):
    """A database error that retrying will not fix (a bug or a broken schema): an operator's problem."""


def connect_args(settings: Settings) -> dict[str, Any]:
    """pg8000 connection arguments: timeout, application name, the session's time zone (UTC), its
    server-side limits and TLS, required or off.

    The limits (``statement_timeout``, ``lock_timeout``, ``idle_in_transaction_session_timeout``,
    SPEC §6) travel in the startup packet, so they cost no round trip, not even at connect: a
    statement or lock wait over its limit is cancelled by the server (an error the session rolls
    back; :func:`translate_db_error` makes it transient), and a session left idle in a transaction
    (its function timed out mid-way) is ended by the server, releasing its locks.

    pg8000's TLS default (``ssl_context=None``) is neither required nor off: it tries TLS without
    verifying the server and falls back to plaintext. With ``DB_SSL`` on, a verifying context makes
    TLS mandatory; off (local runs), ``False`` skips the TLS handshake altogether.
    """
    args: dict[str, Any] = {
        "timeout": settings.db_timeout_seconds,
        "application_name": APPLICATION_NAME,
        "startup_params": {
            # FLIP's timestamps are naive, holding UTC: every conversion between them and now() or
            # an ISO time with an offset goes through the session's time zone (SPEC §2); a stored
            # time read as text (the logs cursor) is in ISO form whatever the server's default.
            "TimeZone": "UTC",
            "DateStyle": "ISO, MDY",
            "statement_timeout": _milliseconds(settings.db_statement_timeout_seconds),
            "lock_timeout": _milliseconds(settings.db_lock_timeout_seconds),
            "idle_in_transaction_session_timeout": _milliseconds(
                settings.db_idle_in_transaction_timeout_seconds
            ),
        },
    }
    if settings.db_ssl:
        args["ssl_context"] = ssl.create_default_context(cafile=settings.db_ssl_root_cert)
    else:
        args["ssl_context"] = False
    return args


def _milliseconds(seconds: float) -> str:
    """A duration as PostgreSQL's setting text (milliseconds; at least 1, since 0 turns a limit off)."""
    return str(max(1, round(seconds * 1000)))


def build_engine(settings: Settings, *, pool_size: int = 1) -> Engine:
    """An engine sized for Lambda: ``pool_size`` connections (one per container), pre-ping, recycle;
    named prepared statements unless the database is behind a pooler (:data:`NAMED_STATEMENTS`)."""
    url = database_url(settings)
    engine = create_engine(
        # A secret's password stays out of the engine (its URL, the pool's connect arguments): each
        # connection gets it from the listener below, so nothing long-lived holds it (SnapStart).
        url if settings.database_url else url._replace(password=None),
        connect_args=connect_args(settings),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=settings.db_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=settings.db_pool_recycle_seconds,
        json_deserializer=decode_json,
        execution_options={NAMED_STATEMENTS: not settings.db_behind_pooler},
    )
    event.listen(engine, "handle_error", _network_errors_are_disconnects)
    if not settings.database_url:
        event.listen(engine, "do_connect", log_in_with_the_current_secret(settings))
    setattr(engine.dialect, "do_ping", _ping_by_beginning)  # noqa: B010 (an instance attribute, on purpose)
    setattr(engine.dialect, "do_commit", _commit_in_one_round_trip)  # noqa: B010
    return engine


def decode_json(text: str) -> Any:
    """A ``json``/``jsonb`` value from the database as Python, whatever PostgreSQL holds; never raises.

    Other FLIP services write these columns too, and jsonb holds what Python's ``json`` refuses: an
    integer over Python's 4,300-digit limit is decoded as a ``Decimal``; a value nested deeper than
    its recursion limit stays the JSON text it is. A failure here would break the driver mid-row,
    losing the connection and the page (SPEC §3: one odd row never breaks a model's feed).
    """
    try:
        try:
            return json.loads(text)
        except ValueError:  # PostgreSQL sends valid JSON: an integer over the digit limit
            return json.loads(text, parse_int=_integer)
    except RecursionError:
        return text


def _integer(digits: str) -> int | Decimal:
    try:
        return int(digits)
    except ValueError:
        return Decimal(digits)


def _ping_by_beginning(dbapi_connection: Any) -> bool:
    """The pre-ping, as the ``BEGIN`` the invocation needs anyway: one round trip, where SQLAlchemy's
    ping takes two (pg8000 sends ``BEGIN`` before the ping's own empty query). A socket error means
    the pooled connection is dead (SQLAlchemy only recognises the driver's own errors there), so it
    is replaced; an autocommit connection gets the empty query."""
    try:
        dbapi_connection.execute_simple(";" if dbapi_connection.autocommit else "begin transaction")
    except (TimeoutError, ConnectionError):
        return False
    return True


def _commit_in_one_round_trip(dbapi_connection: Any) -> None:
    """``COMMIT`` as a simple query: one round trip, where pg8000's ``commit()`` takes three (it
    sends the statement through the extended protocol: parse, describe, execute). The outcome is
    the same: in a failed transaction pg8000 raises ``in failed transaction block`` either way."""
    dbapi_connection.execute_simple("COMMIT")


def _network_errors_are_disconnects(context: ExceptionContext) -> None:
    """pg8000 lets socket errors escape bare (ConnectionResetError, BrokenPipeError, TimeoutError):
    mark them disconnects, so the pre-ping replaces a dead pooled connection and a failed statement
    invalidates its connection."""
    if is_network_error(context.original_exception):
        context.is_disconnect = True


@cache
def get_engine() -> Engine:
    """The container's engine, created on first use."""
    return build_engine(get_settings())


@cache
def _get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def reset_engine() -> None:
    """Forget the cached settings, secret and engine (tests; and after the DB password rotated)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _get_sessionmaker.cache_clear()
    get_settings.cache_clear()
    forget_credentials()


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of a driver error, when the server sent one."""
    original = getattr(error, "orig", error)
    args = getattr(original, "args", ())
    if args and isinstance(args[0], dict):
        code = args[0].get("C")
        return str(code) if code else None
    return None


def is_network_error(error: BaseException) -> bool:
    """A socket error or timeout of the driver (pg8000 lets them escape bare), or one it caused.

    The connection is then mid-protocol: it must be discarded, never rolled back and reused.
    """
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, TimeoutError | ConnectionError):
            return True
        cause = cause.__cause__
    return False


def translate_db_error(error: BaseException) -> BaseException:
    """Map a SQLAlchemy/pg8000 error to a domain error; other exceptions are returned unchanged."""
    if isinstance(error, exc.TimeoutError) or is_network_error(error):
        return DatabaseUnavailableError("the database did not answer in time; try again")
    if not isinstance(error, exc.DBAPIError):
        return error
    code = sqlstate(error)
    if code == _INVALID_PASSWORD:
        # The secret may have rotated: fetch it again on the next invocation.
        reset_engine()
    if (
        error.connection_invalidated
        or isinstance(error, exc.InterfaceError | exc.OperationalError)
        or (code is not None and code.startswith(_TRANSIENT_SQLSTATE_PREFIXES))
    ):
        return DatabaseUnavailableError("the database is unavailable; try again later")
    return DatabaseError(f"unexpected database error (SQLSTATE {code or 'unknown'})")


@contextmanager
def session_scope(session_factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close.

    Driver errors leave as :class:`DatabaseUnavailableError` (transient) or :class:`DatabaseError`.
    """
    session = (session_factory or _get_sessionmaker())()
    try:
        yield session
        session.commit()
    except BaseException as error:
        if is_network_error(error):
            with suppress(Exception):  # the pool replaces it on the next checkout
                session.connection().invalidate()
        # If the connection is already gone, rollback fails too; closing below discards it.
        with suppress(exc.SQLAlchemyError):
            session.rollback()
        translated = translate_db_error(error)
        if translated is error:
            raise
        raise translated from error
    finally:
        session.close()
