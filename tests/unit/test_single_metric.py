"""``observability.single_metric``: Powertools' metric with dimensions of its own, silent when metrics
are off (Powertools' own prints its EMF line regardless of ``POWERTOOLS_METRICS_DISABLED``)."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from flip_models.observability import single_metric


def test_it_prints_one_emf_line_when_metrics_are_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FLIP")
    with single_metric(name="FLMessageRejected", unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="queue", value="fl-logs")

    [line] = capsys.readouterr().out.splitlines()
    emitted = json.loads(line)
    assert (emitted["queue"], emitted["FLMessageRejected"]) == ("fl-logs", [1.0])


def test_it_prints_nothing_when_metrics_are_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with single_metric(name="FLMessageRejected", unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="queue", value="fl-logs")

    assert capsys.readouterr().out == ""
