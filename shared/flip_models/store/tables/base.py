"""What every table module shares: the declarative base (one ``MetaData``, with PostgreSQL's own
constraint names, as FLIP's schema has them) and the column kinds used across tables.

FLIP's tables (SPEC §2) are declared as FLIP's head defines them: native enum types, ``varchar``,
naive timestamps holding UTC, and no server defaults on ids or timestamps: the service sets them,
in Python (:func:`uuid_pk`, :func:`utc_now`) or in its SQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import Enum as PyEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, TypeDecorator, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

#: Name prefix of the service's own indexes on FLIP's tables (SPEC §2): what is not FLIP's is told
#: apart by its name, and removed again by the service's downgrade.
OWN_INDEX_PREFIX = "flip_models_"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp holding UTC: FLIP's columns are naive (``timestamp without time zone``) at its head
    and may become ``timestamptz`` later. Written as naive UTC, read back as an aware UTC datetime
    whichever the column is (the sessions run with ``TimeZone=UTC``, so PostgreSQL converts between
    the two the same way)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return value  # type: ignore[no-any-return]
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """Now, in UTC: the service's timestamps (FLIP's code writes UTC too)."""
    return datetime.now(UTC)


def flip_enum(enum_cls: type[PyEnum], name: str) -> Enum:
    """One of FLIP's native PostgreSQL enum types (``modelstatus``...), which FLIP's migrations own:
    never created or altered by the service's metadata."""
    return Enum(enum_cls, name=name, native_enum=True, create_type=False)


def text_enum(enum_cls: type[PyEnum], name: str) -> Enum:
    """A text column of the service's own tables holding the enum member's name, with a CHECK."""
    return Enum(enum_cls, name=name, native_enum=False, length=32, create_constraint=True)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def timestamp(*, nullable: bool = False, stamped: bool = True) -> Mapped[Any]:
    """A UTC timestamp column; ``stamped``: set to now by the service when a row is added without one."""
    return mapped_column(UtcDateTime, nullable=nullable, default=utc_now if stamped else None)
