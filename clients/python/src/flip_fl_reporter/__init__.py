"""The FL servers' reporter of the FLIP model service (SPEC §9).

``FLIPReporter`` sends an FL server's statuses, metrics, round events and errors to the model
service's SQS queues: checked before they leave, each with a deterministic ``event_id``, retried,
and kept in an optional crash-safe spool until SQS has them. ``HubCallsOverSQS`` gives flip-utils'
``FLIPStandardProd`` the same hub calls over SQS.
"""

from flip_fl_reporter.flip_utils import HubCallsOverSQS
from flip_fl_reporter.messages import MAX_BODY_BYTES, MAX_LOG_CHARACTERS
from flip_fl_reporter.reporter import FLIPReporter
from flip_fl_reporter.rules import Invalid, broken_rule

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_LOG_CHARACTERS",
    "FLIPReporter",
    "HubCallsOverSQS",
    "Invalid",
    "broken_rule",
]
__version__ = "0.1.0"
