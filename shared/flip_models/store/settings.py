"""Configuration of one container, read once from the environment (SPEC §6).

The service operations never read ``os.environ``: handlers call :func:`get_settings` (cached) and
pass what is needed down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flip_models.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}


class Settings(BaseModel):
    """Typed configuration; field names mirror the environment variables in lower case."""

    model_config = ConfigDict(frozen=True)

    database_url: str | None = None
    db_secret_arn: str | None = None
    #: Host to connect to instead of the secret's (an RDS Proxy endpoint); the secret's credentials stay.
    db_host: str | None = None
    db_ssl: bool = False
    db_ssl_root_cert: str | None = None
    #: The database is reached through a transaction-mode pooler (RDS Proxy, PgBouncer): a
    #: connection's session state (a named prepared statement) is not kept from one transaction to
    #: the next, so no statement is prepared by name (:data:`flip_models.store.db.NAMED_STATEMENTS`).
    db_behind_pooler: bool = False
    db_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    # Server-side limits of every session (SPEC §6), below the functions' timeouts (28 s API, 30 s
    # FL) and below db_timeout_seconds, so that the server ends a stuck statement or lock wait first
    # (the connection stays usable) and no backend is left waiting after the function gave up.
    db_statement_timeout_seconds: Annotated[float, Field(gt=0, le=900)] = 8.0
    db_lock_timeout_seconds: Annotated[float, Field(gt=0, le=900)] = 5.0
    db_idle_in_transaction_timeout_seconds: Annotated[float, Field(gt=0, le=900)] = 10.0
    db_pool_recycle_seconds: Annotated[int, Field(gt=0)] = 300
    db_secret_max_age_seconds: Annotated[int, Field(ge=0)] = 3600
    admin_group: str = "admin"
    researcher_group: str = "researcher"
    cors_allow_origin: str = "*"
    dead_letter_queue_url: str | None = None
    #: A run with no sign of life for this long is failed by the scheduled sweep (SPEC §8).
    stale_run_minutes: Annotated[int, Field(gt=0)] = 120
    #: An SSM parameter holding the operator's own job types (``GET /model/job-types``), JSON keyed
    #: by FL backend; unset: the manifests shipped with the layer.
    job_types_parameter: str | None = None
    #: How long a container keeps the parameter's value before asking SSM again (Powertools' cache).
    job_types_max_age_seconds: Annotated[int, Field(ge=0)] = 300
    # --- The FL ingress (SPEC §10): FLIP's internal HTTP routes into the FL queues ---
    #: The queues the ingress sends to (the template's FL queues).
    fl_logs_queue_url: str | None = None
    fl_metrics_queue_url: str | None = None
    fl_status_queue_url: str | None = None
    #: A Secrets Manager secret holding the SHA-256 (hex) of the FL servers' ``X-Internal-Service-Key``:
    #: the hash as plain text, or JSON with ``internal_service_key_hash`` (FLIP's secret can be reused)
    #: and, during a rotation, ``internal_service_key_hash_previous``. Never the key itself.
    internal_service_key_secret_arn: str | None = None
    #: Without a secret (the local stack, tests): the hash(es) themselves, comma-separated, as FLIP's
    #: development setting ``INTERNAL_SERVICE_KEY_HASH``.
    internal_service_key_hash: str | None = None
    #: How long a container keeps the secret's value before asking Secrets Manager again.
    internal_service_key_max_age_seconds: Annotated[int, Field(ge=0)] = 300
    #: How long the ingress keeps a found model and a client attributed to it (no is never kept).
    ingress_cache_seconds: Annotated[float, Field(ge=0)] = 30.0

    @field_validator("db_ssl", "db_behind_pooler", mode="before")
    @classmethod
    def _parse_bool(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() in _TRUE
        return value

    @field_validator(
        "database_url",
        "db_secret_arn",
        "db_host",
        "db_ssl_root_cert",
        "dead_letter_queue_url",
        "job_types_parameter",
        "fl_logs_queue_url",
        "fl_metrics_queue_url",
        "fl_status_queue_url",
        "internal_service_key_secret_arn",
        "internal_service_key_hash",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _needs_a_database(self) -> Settings:
        if not self.database_url and not self.db_secret_arn:
            raise ValueError("set DATABASE_URL or DB_SECRET_ARN")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from environment variables (upper-case field names)."""
        values = {name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigurationError(f"invalid configuration: {problems}") from None


@cache
def get_settings() -> Settings:
    """The container's settings, read from the environment on first use and then cached."""
    return Settings.from_env(os.environ)
