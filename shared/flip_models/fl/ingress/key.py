"""Step 1, the key: ``X-Internal-Service-Key`` against the SHA-256 hashes accepted now, FLIP's 401s."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from flip_models.fl.ingress.answers import IngressAnswer
from flip_models.observability import logger
from flip_models.store.settings import get_settings

#: The header FLIP's FL servers send their key in (flip-api's ``INTERNAL_SERVICE_KEY_HEADER``).
KEY_HEADER: Final = "X-Internal-Service-Key"
#: FLIP's three 401 texts (flip-api ``authenticate_internal_service``).
KEY_MISSING: Final = "Not authenticated: internal service key is missing."
KEY_NOT_CONFIGURED: Final = "Internal service auth not configured."
KEY_INVALID: Final = "Invalid internal service key."
#: The JSON keys of the secret (FLIP's own secret names its hash ``internal_service_key_hash``).
SECRET_KEYS: Final = ("internal_service_key_hash", "internal_service_key_hash_previous")


def parse_hashes(value: str | bytes | Mapping[str, Any] | None) -> tuple[str, ...]:
    """The accepted SHA-256 hashes (lower-case hex) in a secret's value: JSON with
    :data:`SECRET_KEYS`, or the hashes as text (comma or space separated). Anything that is not a
    64-digit hex hash is ignored: a secret holding a key instead of its hash accepts nothing."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    candidates: list[Any] = []
    if isinstance(value, Mapping):
        candidates = [value.get(name) for name in SECRET_KEYS]
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                return parse_hashes(json.loads(text))
            except (ValueError, RecursionError):
                return ()
        candidates = text.replace(",", " ").split()
    hashes = []
    for candidate in candidates:
        if isinstance(candidate, str):
            digest = candidate.strip().lower()
            if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
                hashes.append(digest)
    return tuple(dict.fromkeys(hashes))


def accepted_hashes() -> tuple[str, ...]:
    """The hashes of the keys accepted now: the secret's (Powertools' cache, ``max_age`` from the
    settings, so a rotation is seen within that time) or, without a secret, the setting's."""
    settings = get_settings()
    if settings.internal_service_key_secret_arn is None:
        return parse_hashes(settings.internal_service_key_hash)
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(
            settings.internal_service_key_secret_arn,
            max_age=settings.internal_service_key_max_age_seconds,
        )
    except parameters.GetParameterError as error:
        logger.error("the internal service key's secret could not be read", extra={"error": str(error)[:200]})
        raise IngressAnswer(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "Internal service auth unavailable; try again.",
            {"Retry-After": "5"},
        ) from None
    return parse_hashes(value)


def authenticate(key: str | None) -> None:
    """FLIP's check: a key is given, hashes are configured, and the key's SHA-256 is one of them.

    Every accepted hash is compared (``hmac.compare_digest``, equal-length hex), none skipped: the
    time taken says nothing about which hash, if any, matched, nor about the key's length.
    """
    if not key:
        raise IngressAnswer(HTTPStatus.UNAUTHORIZED, KEY_MISSING)
    hashes = accepted_hashes()
    if not hashes:
        logger.warning("internal service key hash not configured")
        raise IngressAnswer(HTTPStatus.UNAUTHORIZED, KEY_NOT_CONFIGURED)
    provided = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
    matched = False
    for expected in hashes:
        matched |= hmac.compare_digest(provided, expected)
    if not matched:
        raise IngressAnswer(HTTPStatus.UNAUTHORIZED, KEY_INVALID)
