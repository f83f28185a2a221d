"""Domain errors raised by the service package; handlers map each class to a response in one place.

Messages are written for the person or operator who reads them: they name the field or the rule and
never carry SQL, driver text or a stack trace.
"""

from __future__ import annotations


class FlipError(Exception):
    """Base class of every error the service package raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(FlipError):
    """The model, project or other resource does not exist (or is soft-deleted where that matters)."""


class ConflictError(FlipError):
    """The request contradicts the current state (for example deleting a deleted model)."""


class InvalidError(FlipError):
    """Input breaks a validation rule; ``field`` names the offending field when there is one."""


class ForbiddenError(FlipError):
    """The caller is known but may not do this."""


class UnauthorizedError(FlipError):
    """No caller identity was presented."""


class DatabaseUnavailableError(FlipError):
    """The database could not be reached or the operation timed out: transient, safe to retry."""


class ConfigurationError(FlipError):
    """The container's configuration is missing or invalid (raised at cold start)."""
