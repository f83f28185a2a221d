"""The FL ingress (SPEC §10): FLIP's internal HTTP routes, checked and put in the FL queues.

FLIP's FL servers (flip-utils ``FLIPStandardProd``) call the hub at ``FLIP_API_INTERNAL_URL`` with
the header ``X-Internal-Service-Key``, one request per event, no retry. These routes take exactly
those requests and give FLIP's answers, but apply nothing themselves: a request is

1. **authenticated**: the key's SHA-256 compared in constant time with every accepted hash (the
   secret's, two during a rotation), FLIP's three 401 texts;
2. **validated** by the queue message's own model (:mod:`flip_models.fl.messages`; a 422 names the
   field), the path's model id and, for an ``Idempotency-Key`` header, its key included;
3. **checked** as FLIP checks synchronously, read-only: the model exists (404), a named FL client
   resolves to a trust of the model (FLIP's 400 texts; a failed client's text is kept all the same,
   SPEC §5). A yes is kept :attr:`~flip_models.store.settings.Settings.ingress_cache_seconds` (30 s)
   per container; a no is asked again every time;
4. **enqueued** in its FL queue (the status queue is FIFO with the model as its group), and answered
   ``2xx`` only once SQS has accepted the message. The consumers then apply it once, or dead-letter
   it with a reason, as any SQS message.

Idempotency: ``event_id`` in the body, else the ``Idempotency-Key`` header, becomes the message's
``event_id``, the per-model key the consumers apply once (a FIFO message's deduplication id is
derived from it and the body); without one each request is one message, as in FLIP.
"""

from flip_models.fl.ingress.bodies import MAX_BODY_BYTES
from flip_models.fl.ingress.checks import FOUND
from flip_models.fl.ingress.key import KEY_HEADER, KEY_INVALID, KEY_MISSING, KEY_NOT_CONFIGURED
from flip_models.fl.ingress.routes import BASE_PATH, IDEMPOTENCY_HEADER, make_ingress

__all__ = [
    "BASE_PATH",
    "FOUND",
    "IDEMPOTENCY_HEADER",
    "KEY_HEADER",
    "KEY_INVALID",
    "KEY_MISSING",
    "KEY_NOT_CONFIGURED",
    "MAX_BODY_BYTES",
    "make_ingress",
]
