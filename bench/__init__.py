"""Benchmarks of the FLIP model service (``flip-models bench``): every figure next to a floor
measured in the same run on the same machine.

The handlers run in this process, so it takes the Powertools settings a deployed function has
before any bench module imports the service package (Powertools reads them when its Logger, Tracer
and Metrics are built, at import): metrics namespace ``FLIP``, tracing off (no X-Ray here), errors
only. Variables already set win.
"""

import os

for _name, _value in {
    "POWERTOOLS_METRICS_NAMESPACE": "FLIP",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}.items():
    os.environ.setdefault(_name, _value)
