"""Step 3, what FLIP answers synchronously, read-only: the model exists, a named client resolves to a
trust of the model. A yes is kept ``ingress_cache_seconds`` per container; a no is asked again."""

from __future__ import annotations

import threading
import time
import uuid
from http import HTTPStatus
from typing import Final

from flip_models.errors import DatabaseUnavailableError
from flip_models.fl.attribution import ModelAndClient, find_model_and_client
from flip_models.fl.ingress.answers import IngressAnswer
from flip_models.fl.messages import FLLogMessage, FLMetricMessage
from flip_models.store import db
from flip_models.store.settings import get_settings

#: How many (model, client) answers a container keeps.
_CACHE_ENTRIES: Final = 4096


class _Found:
    """The (model, client) pairs found good, each for ``ingress_cache_seconds`` (a no is not kept)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[tuple[uuid.UUID, str | None], tuple[float, ModelAndClient]] = {}

    def get(self, key: tuple[uuid.UUID, str | None]) -> ModelAndClient | None:
        with self._lock:
            entry = self._until.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def keep(self, key: tuple[uuid.UUID, str | None], found: ModelAndClient, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            if len(self._until) >= _CACHE_ENTRIES:
                now = time.monotonic()
                self._until = {k: v for k, v in self._until.items() if v[0] > now}
                if len(self._until) >= _CACHE_ENTRIES:
                    self._until.clear()
            self._until[key] = (time.monotonic() + seconds, found)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


FOUND = _Found()


def model_and_client(model_id: uuid.UUID, fl_client_name: str | None) -> ModelAndClient:
    """The model and the client's attribution: from the cache, else one read-only query."""
    key = (model_id, fl_client_name)
    cached = FOUND.get(key)
    if cached is not None:
        return cached
    try:
        with db.session_scope() as session:
            found = find_model_and_client(model_id, fl_client_name, session.connection())
    except DatabaseUnavailableError as error:
        raise IngressAnswer(
            HTTPStatus.SERVICE_UNAVAILABLE,
            f"The hub's database is unavailable: {error.message}",
            {"Retry-After": "5"},
        ) from None
    if found.model_found and (fl_client_name is None or found.trust_in_model):
        FOUND.keep(key, found, get_settings().ingress_cache_seconds)
    return found


def model_not_found(model_id: uuid.UUID) -> IngressAnswer:
    return IngressAnswer(HTTPStatus.NOT_FOUND, f"Model ID: {model_id} does not exist")


def check_attribution(message: FLLogMessage | FLMetricMessage) -> None:
    """FLIP's synchronous answers: 404 for an unknown model, its 400s for a client that resolves to
    no trust or whose trust is not on the model, except a failed client's text, which is kept as a
    model-level row (SPEC §5) and so accepted."""
    name = message.fl_client_name
    found = model_and_client(message.model_id, name)
    if not found.model_found:
        raise model_not_found(message.model_id)
    if name is None or found.trust_in_model:
        return
    if isinstance(message, FLLogMessage) and message.log is not None and not message.success:
        return  # kept as "[unattributed client 'NAME'] …" by the consumer
    if found.trust_name is None:
        text = f"FL client '{name}' could not be resolved to a trust (model: {message.model_id})"
    else:
        text = f"The trust: {found.trust_name} is not associated with model: {message.model_id}"
    raise IngressAnswer(HTTPStatus.BAD_REQUEST, text)
