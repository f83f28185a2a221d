"""The one Logger, Tracer and Metrics every handler and the service package share.

Service name, log level and metrics namespace come from the ``POWERTOOLS_*`` variables set in the
template's Globals; locally they fall back to Powertools' defaults.

When tracing is off (``POWERTOOLS_TRACE_DISABLED``, or outside Lambda, as Powertools decides) the
Tracer gets a provider that does nothing, so that a cold start does not import the X-Ray SDK (and
botocore with it) only to disable it. With tracing on, the Tracer is Powertools' default (X-Ray).
"""

from __future__ import annotations

import numbers
import traceback
from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics import single_metric as _powertools_single_metric
from aws_lambda_powertools.metrics.base import SingleMetric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    """A segment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(
        self, exception: BaseException, stack: list[traceback.StackSummary], remote: bool = False
    ) -> None:
        return None


class _NoTracing(BaseProvider):
    """The provider of a disabled Tracer: no X-Ray SDK, no segments."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def _make_tracer() -> Tracer:
    # Powertools' own rule for "tracing is off" (env variable, outside Lambda, SAM local).
    if Tracer._is_tracer_disabled():
        return Tracer(provider=_NoTracing(), disabled=True, auto_patch=False)
    return Tracer()


logger = Logger()
tracer = _make_tracer()
metrics = Metrics()


@contextmanager
def single_metric(name: str, unit: MetricUnit, value: float) -> Iterator[SingleMetric]:
    """Powertools' ``single_metric`` (a metric with dimensions of its own), silent when metrics are
    off (``POWERTOOLS_METRICS_DISABLED``, as :data:`metrics` obeys it): Powertools' own prints its
    EMF line regardless, which the local stack and the tests turn off."""
    if not is_metrics_disabled():
        with _powertools_single_metric(name=name, unit=unit, value=value) as metric:
            yield metric
        return
    metric = SingleMetric()
    metric.add_metric(name=name, unit=unit, value=value)
    yield metric  # built, never printed
