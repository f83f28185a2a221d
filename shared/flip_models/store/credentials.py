"""The database's credentials: ``DATABASE_URL``, or the RDS secret named by ``DB_SECRET_ARN``.

The secret is fetched through Powertools parameters and cached (``DB_SECRET_MAX_AGE_SECONDS``); each
new connection takes the cached secret, so one dropped from the cache (after a SnapStart restore,
``store/snapstart.py``) is read again; ``DB_HOST`` replaces the secret's host (an RDS Proxy endpoint).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, exc, make_url

from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.store.settings import Settings


def database_url(settings: Settings) -> URL:
    """The SQLAlchemy URL (pg8000 driver) from ``DATABASE_URL`` or the RDS secret."""
    if settings.database_url:
        try:
            url = make_url(settings.database_url)
        except exc.ArgumentError as error:
            raise ConfigurationError("DATABASE_URL is not a valid database URL") from error
        return url.set(drivername="postgresql+pg8000")
    return url_from_secret(settings)


def url_from_secret(settings: Settings) -> URL:
    from aws_lambda_powertools.utilities import parameters

    assert settings.db_secret_arn is not None
    try:
        secret: Any = parameters.get_secret(
            settings.db_secret_arn, transform="json", max_age=settings.db_secret_max_age_seconds
        )
    except parameters.GetParameterError as error:
        if aws_unreachable(error):
            raise DatabaseUnavailableError(
                "the database credentials could not be read (Secrets Manager unreachable); try again later"
            ) from error
        raise ConfigurationError(
            f"the database secret named by DB_SECRET_ARN could not be read ({botocore_code(error)})"
        ) from error
    except parameters.TransformParameterError as error:
        raise ConfigurationError("the database secret is not JSON") from error
    if not isinstance(secret, dict):
        raise ConfigurationError("the database secret is not a JSON object")
    missing = [key for key in ("host", "username", "password") if not secret.get(key)]
    if missing:
        raise ConfigurationError(f"the database secret lacks {', '.join(missing)}")
    return URL.create(
        "postgresql+pg8000",
        username=str(secret["username"]),
        password=str(secret["password"]),
        host=settings.db_host or str(secret["host"]),
        port=int(secret.get("port") or 5432),
        database=str(secret.get("dbname") or "postgres"),
    )


def aws_unreachable(error: BaseException) -> bool:
    """An AWS service (Secrets Manager, SSM) out of reach: Powertools raises GetParameterError while
    handling botocore's network error (its context)."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    cause = error.__cause__ or error.__context__
    return isinstance(cause, BotoConnectionError | HTTPClientError)


def botocore_code(error: BaseException) -> str:
    """The AWS error code behind a failed secret or parameter read (AccessDeniedException…), not its text."""
    from botocore.exceptions import ClientError

    cause = error.__cause__ or error.__context__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code") or "ClientError")
    return type(cause or error).__name__


def log_in_with_the_current_secret(settings: Settings) -> Any:
    """A ``do_connect`` listener: every new connection logs in with the secret as cached now (Powertools,
    ``DB_SECRET_MAX_AGE_SECONDS``), not as it was when the engine was built. The engine outlives its
    secret: after a SnapStart restore (``store/snapstart.py``) the cache is empty and the next
    connection reads the secret again, while the engine keeps its initialised dialect and compiled
    statements."""

    def log_in(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        try:
            url = url_from_secret(settings)
        except DatabaseUnavailableError:
            if not _last_login:
                raise
            cparams.update(_last_login)  # Secrets Manager out of reach: the last login, as before
            return
        _last_login.update(
            user=url.username, password=url.password, host=url.host, port=url.port, database=url.database
        )
        cparams.update(_last_login)

    return log_in


#: The credentials the last new connection logged in with, from the secret: what the next one uses
#: while Secrets Manager is out of reach. :func:`forget_credentials` empties it (before a snapshot).
_last_login: dict[str, Any] = {}


def forget_credentials() -> None:
    """Drop the cached secret and the last login: after this no memory of the container holds them."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    _last_login.clear()
