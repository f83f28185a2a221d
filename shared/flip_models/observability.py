"""The one Logger, Tracer and Metrics every handler and the service package share.

Service name, log level and metrics namespace come from the ``POWERTOOLS_*`` variables set in the
template's Globals; locally they fall back to Powertools' defaults.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
