"""``FLIPReporter``: what an FL server calls to report to the FLIP model service (SPEC §9)."""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
import uuid
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Callable, Final, Optional, SupportsFloat, SupportsIndex, Union

from flip_fl_reporter.messages import (
    Body,
    Outgoing,
    event_body,
    handled_exception_body,
    metric_body,
    outgoing,
    status_body,
)
from flip_fl_reporter.rules import Invalid
from flip_fl_reporter.sending import Result, Sender, default_sqs_client
from flip_fl_reporter.spool import Spool

logger = logging.getLogger("flip_fl_reporter")

#: After a call to a queue failed (queue missing, access denied), that queue's messages are only
#: written to the spool for this long, doubling on each new failure up to the maximum, so that an
#: outage costs the FL loop one slow call per window instead of every call. Each queue has its own:
#: the other queues' messages are still sent. A call that got no answer (endpoint unreachable,
#: timeouts, no credentials) holds off all three queues. ``flush()`` always tries.
HOLD_OFF_FIRST_SECONDS: Final = 2.0
HOLD_OFF_MAX_SECONDS: Final = 60.0

#: The variables :meth:`FLIPReporter.from_environment` reads.
ENVIRONMENT: Final = {
    "logs_queue_url": "FLIP_FL_LOGS_QUEUE_URL",
    "metrics_queue_url": "FLIP_FL_METRICS_QUEUE_URL",
    "status_queue_url": "FLIP_FL_STATUS_QUEUE_URL",
    "run_id": "FLIP_FL_RUN_ID",
    "spool_dir": "FLIP_FL_SPOOL_DIR",
}

_WHAT = {"logs": "log", "metrics": "metric", "status": "status"}

#: A model id: a UUID, or its text in any form ``uuid.UUID`` reads.
ModelId = Union[str, uuid.UUID]
#: A name, or an enum member whose value is the name (flip-utils' ``ModelStatus``, ``FLLogEvent``).
Name = Union[str, enum.Enum]


class FLIPReporter:
    """Sends an FL server's statuses, metrics, round events and errors to the model service's queues.

    The methods mirror the hub calls of flip-utils' ``FLIPStandardProd``. Each one checks the
    message with SPEC §5's rules (a message that breaks one is logged and not sent), gives it an
    ``event_id`` derived from what it says and ``run_id`` (the same call in the same run is applied
    once, however often it is sent), and returns whether SQS accepted it. None of them raises.

    ``run_id`` names the run (e.g. the NVFLARE job id or the Flower run id) and must be unique per
    run: a model's second run under the same ``run_id`` repeats the first run's event ids, and its
    messages that say the same are taken for the first run's. Without one, each reporter is a run of
    its own. With ``spool_dir``, every message is first written there (crash-
    safe) and deleted once SQS has it; what could not be sent waits there and is sent, oldest first
    and in batches, by the next call or by :meth:`flush` — also by a new process on the same
    directory. Without it, a message that could not be sent is lost unless the caller repeats the
    call (False tells it so).

    ``sqs_client``: any boto3 SQS client; by default one for the queue URLs' endpoint with
    botocore's standard retry mode. Construction raises ``ValueError`` on a bad configuration;
    it is the only place that raises.
    """

    def __init__(
        self,
        *,
        logs_queue_url: str,
        metrics_queue_url: str,
        status_queue_url: str,
        sqs_client: Any = None,
        run_id: Optional[str] = None,
        spool_dir: Union[str, os.PathLike[str], None] = None,
    ) -> None:
        urls = {"logs": logs_queue_url, "metrics": metrics_queue_url, "status": status_queue_url}
        for queue, url in urls.items():
            if not isinstance(url, str) or not url.strip():
                raise ValueError(f"{queue}_queue_url: the URL of the fl-{queue} queue is required")
        if not status_queue_url.endswith(".fifo"):
            raise ValueError("status_queue_url: must be the FIFO status queue (its name ends in .fifo)")
        self.run_id: str = str(run_id) if run_id is not None else uuid.uuid4().hex
        if sqs_client is None:
            try:
                sqs_client = default_sqs_client(logs_queue_url)
            except Exception as error:  # e.g. no region for a local endpoint
                raise ValueError(f"cannot make an SQS client for {logs_queue_url}: {error}") from error
        self._sender = Sender(sqs_client, urls)
        self._spool = Spool(Path(spool_dir)) if spool_dir is not None else None
        self._lock = threading.Lock()
        self._clock: Callable[[], float] = time.monotonic
        #: Per queue: its current hold-off, and when it ends (by ``_clock``); absent: not held off.
        self._hold_off: dict[str, float] = {}
        self._retry_at: dict[str, float] = {}

    @classmethod
    def from_environment(
        cls, environ: Optional[Mapping[str, str]] = None, *, sqs_client: Any = None
    ) -> FLIPReporter:
        """A reporter configured by ``FLIP_FL_LOGS_QUEUE_URL``, ``FLIP_FL_METRICS_QUEUE_URL``,
        ``FLIP_FL_STATUS_QUEUE_URL`` and, optionally, ``FLIP_FL_RUN_ID`` (the ``run_id``: unique per
        run, i.e. per FL job) and ``FLIP_FL_SPOOL_DIR``."""
        environ = os.environ if environ is None else environ
        missing = [
            name for key, name in ENVIRONMENT.items() if key.endswith("_url") and not environ.get(name)
        ]
        if missing:
            raise ValueError(f"set {', '.join(missing)} (the queue URLs of the model service)")
        return cls(
            logs_queue_url=environ[ENVIRONMENT["logs_queue_url"]],
            metrics_queue_url=environ[ENVIRONMENT["metrics_queue_url"]],
            status_queue_url=environ[ENVIRONMENT["status_queue_url"]],
            sqs_client=sqs_client,
            run_id=environ.get(ENVIRONMENT["run_id"]) or None,
            spool_dir=environ.get(ENVIRONMENT["spool_dir"]) or None,
        )

    # --- the four hub calls ------------------------------------------------------------------------

    def update_status(self, model_id: ModelId, status: Name) -> bool:
        """The model's status (a ``ModelStatus`` or its name; never ``PENDING``), in order per model."""
        return self._submit("status", lambda: status_body(model_id, status))

    def send_metrics(
        self,
        model_id: ModelId,
        fl_client_name: str,
        label: str,
        result: SupportsFloat,
        global_round: SupportsIndex,
        x_value: Optional[SupportsFloat] = None,
        x_label: Optional[str] = None,
    ) -> bool:
        """One value of a metric for one FL client (``global_round`` ≥ 0; ``x_value`` defaults to the
        round and ``x_label`` to 'Global Round' in the service). Numbers may be numpy or torch scalars."""
        return self._submit(
            "metrics",
            lambda: metric_body(model_id, fl_client_name, label, result, global_round, x_value, x_label),
        )

    def send_event(
        self,
        model_id: ModelId,
        event_type: Name,
        global_round: Optional[SupportsIndex] = None,
        details: Optional[Mapping[str, Any]] = None,
        fl_client_name: Optional[str] = None,
        success: bool = True,
    ) -> bool:
        """A typed round event (``global_round`` ≥ 1, except ``JOB_WAITING_FOR_RESOURCES``); a null
        ``fl_client_name`` is the hub's own; ``details`` at most 8 KiB as JSON."""
        return self._submit(
            "logs", lambda: event_body(model_id, event_type, global_round, details, fl_client_name, success)
        )

    def send_handled_exception(self, model_id: ModelId, fl_client_name: Optional[str], log: str) -> bool:
        """An FL client's error text (``success`` false), cut as the service stores it (SPEC §5)."""
        return self._submit("logs", lambda: handled_exception_body(model_id, fl_client_name, log))

    def flush(self) -> int:
        """Send what waits in the spool now (whatever the hold-off); returns how many messages still
        wait (0: all sent, or no spool; -1: the spool cannot be read)."""
        if self._spool is None:
            return 0
        try:
            with self._lock:
                self._flush_spool()
                return self._spool.count()
        except Exception:
            logger.exception("flushing the FL message spool failed")
            try:
                return self._spool.count()
            except OSError:
                return -1

    # --- internals ---------------------------------------------------------------------------------

    def _submit(self, queue: str, build: Callable[[], Body]) -> bool:
        try:
            message = outgoing(queue, build(), self.run_id)
        except Invalid as invalid:
            logger.warning("FL %s message not sent: %s", _WHAT[queue], invalid.reason)
            return False
        except Exception:
            logger.exception("FL %s message not sent: it could not be built", _WHAT[queue])
            return False
        try:
            with self._lock:
                return self._deliver(message)
        except Exception:
            logger.exception(
                "FL %s message %s: unexpected error while sending", _WHAT[queue], message.event_id
            )
            return False

    def _deliver(self, message: Outgoing) -> bool:
        if self._spool is None:
            return self._send_now(message, "no spool_dir: it is lost unless the call is repeated")
        try:
            path = self._spool.put(message)
        except OSError as error:
            logger.error("FL message spool %s cannot be written (%s)", self._spool.directory, error)
            return self._send_now(
                message, "the spool cannot be written: it is lost unless the call is repeated"
            )
        waiting = self._held_off()
        if message.queue in waiting:
            logger.warning(
                "FL %s message %s kept in the spool: its queue failed lately, next try in %.0f s, or flush()",
                _WHAT[message.queue],
                message.event_id,
                self._retry_at[message.queue] - self._clock(),
            )
            return False
        return path in self._flush_spool(skip=waiting)

    def _held_off(self) -> set[str]:
        """The queues whose hold-off has not ended."""
        now = self._clock()
        return {queue for queue, retry_at in self._retry_at.items() if now < retry_at}

    def _send_now(self, message: Outgoing, consequence: str) -> bool:
        [result] = self._sender.send([message])
        if not result.sent:
            logger.error(
                "FL %s message %s not sent (%s); %s",
                _WHAT[message.queue],
                message.event_id,
                result.error,
                consequence,
            )
        return result.sent

    def _flush_spool(self, skip: Collection[str] = ()) -> set[Path]:
        """Send every waiting message, oldest first, except those of the queues in ``skip``; returns
        the files sent (and deleted)."""
        assert self._spool is not None
        pending = [(path, message) for path, message in self._spool.pending() if message.queue not in skip]
        if not pending:
            return set()
        results = self._sender.send([message for _, message in pending])
        sent: set[Path] = set()
        kept: dict[str, list[Result]] = {}
        for (path, message), result in zip(pending, results):
            if result.sent:
                self._spool.remove(path)
                sent.add(path)
            elif result.refused:
                self._spool.reject(path, f"refused by SQS: {result.error}")
            else:
                kept.setdefault(message.queue, []).append(result)
        now = self._clock()
        for queue in {message.queue for _, message in pending} | self._sender.failed_queues:
            if queue in self._sender.failed_queues:
                hold_off = self._hold_off.get(queue, 0.0) * 2
                self._hold_off[queue] = min(max(hold_off, HOLD_OFF_FIRST_SECONDS), HOLD_OFF_MAX_SECONDS)
                self._retry_at[queue] = now + self._hold_off[queue]
            else:
                self._hold_off.pop(queue, None)
                self._retry_at.pop(queue, None)
        for queue, results_kept in kept.items():
            logger.warning(
                "%d FL %s message(s) kept in the spool %s (%s); next try in %.0f s, or flush()",
                len(results_kept),
                _WHAT[queue],
                self._spool.directory,
                results_kept[0].error,
                self._hold_off.get(queue, 0.0),
            )
        if sent:
            logger.debug("%d FL message(s) sent from the spool", len(sent))
        return sent
