"""A drop-in for the hub calls of flip-utils' ``FLIPStandardProd``, sent through a :class:`FLIPReporter`.

``FLIPStandardProd`` reaches the hub over HTTP, once per message, with no retry. Mixed in before
it, :class:`HubCallsOverSQS` replaces its four hub calls (same names, same arguments) and keeps
everything else (data access, image download, result upload)::

    from flip.core.standard import FLIPStandardProd
    from flip_fl_reporter import HubCallsOverSQS

    class FLIPStandardSQS(HubCallsOverSQS, FLIPStandardProd):
        pass

    flip = FLIPStandardSQS()  # queues from FLIP_FL_*_QUEUE_URL, or FLIPStandardSQS(reporter=...)

Like ``FLIPStandardProd``'s, these calls return None and log what went wrong; unlike it, they never
raise, not even on a bad argument (``FLIPStandardProd`` raises ``ValueError`` for a bad model id).
To know whether SQS accepted a message, call ``self.reporter`` (a :class:`FLIPReporter`) directly.
"""

from __future__ import annotations

from typing import Any, Optional

from flip_fl_reporter.reporter import FLIPReporter


class HubCallsOverSQS:
    """``update_status``, ``send_metrics``, ``send_handled_exception`` and ``send_event`` with the
    signatures of ``FLIPStandardProd`` (both the older ``round`` and the newer ``global_round``,
    ``x_value``, ``x_label`` of ``send_metrics``)."""

    def __init__(self, *args: Any, reporter: Optional[FLIPReporter] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reporter = reporter if reporter is not None else FLIPReporter.from_environment()

    def update_status(self, model_id: str, new_model_status: Any) -> None:
        self.reporter.update_status(model_id, new_model_status)

    def send_metrics(
        self,
        client_name: str,
        model_id: str,
        label: str,
        value: float,
        global_round: Optional[int] = None,
        x_value: Optional[float] = None,
        x_label: Optional[str] = None,
        *,
        round: Optional[int] = None,  # older flip-utils' name of global_round
    ) -> None:
        chosen: Any = global_round if global_round is not None else round  # None: logged, not sent
        self.reporter.send_metrics(model_id, client_name, label, value, chosen, x_value, x_label)

    def send_handled_exception(
        self, formatted_exception: str, client_name: Optional[str], model_id: str
    ) -> None:
        self.reporter.send_handled_exception(model_id, client_name, formatted_exception)

    def send_event(
        self,
        model_id: str,
        event_type: Any,
        global_round: Optional[int] = None,
        client_name: Optional[str] = None,
        details: Optional[dict[str, Any]] = None,
        success: bool = True,
    ) -> None:
        self.reporter.send_event(
            model_id, event_type, global_round, details=details, fl_client_name=client_name, success=success
        )
