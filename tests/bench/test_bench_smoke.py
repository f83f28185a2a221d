"""``flip-models bench --quick`` end to end on a tiny dataset: the output's shape, never its timings.

On the test run's kind of database (``FLIP_TEST_SCHEMA``, passed on as ``FLIP_BENCH_SCHEMA``): the
service's, or FLIP's built from its DDL and then migrated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ADMIN_URL, TEST_SCHEMA


def _numbers(section: Any) -> list[float]:
    """Every number in a section of the results (booleans excluded)."""
    if isinstance(section, dict):
        return [n for value in section.values() for n in _numbers(value)]
    if isinstance(section, list):
        return [n for value in section for n in _numbers(value)]
    if isinstance(section, int | float) and not isinstance(section, bool):
        return [float(section)]
    return []


def test_quick_bench_writes_every_section(tmp_path: Path, localstack_endpoint: str) -> None:
    out = tmp_path / "results.json"
    env = {
        **os.environ,
        "FLIP_BENCH_PG": ADMIN_URL,
        "FLIP_BENCH_SCHEMA": TEST_SCHEMA,
        "LOCALSTACK_ENDPOINT": localstack_endpoint,
    }

    run = subprocess.run(
        [sys.executable, "-m", "flip_local.cli", "bench", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert "Cold start" in run.stdout
    assert "Warm latency" in run.stdout
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert results["schema"] == results["load"]["schema"] == TEST_SCHEMA
    assert {
        "cold_start",
        "warm_latency",
        "ingestion",
        "scaling",
        "stale_runs",
        "load",
        "fl_ingress",
        "machine",
        "date",
    } <= set(results)
    assert "FL ingress" in run.stdout
    for level in results["fl_ingress"]["senders"].values():
        assert level["ingress"]["req_per_s"] > 0
        assert level["floor_send_message"]["req_per_s"] > 0
        assert isinstance(level["met"], bool)
    assert "fl_ingress" in results["cold_start"]["functions"]
    assert results["machine"]["cpu_count"] >= 1
    assert results["machine"]["postgresql"]

    cold = results["cold_start"]
    assert cold["floor_before"]["seconds"] > 0
    assert cold["functions"]
    for figures in cold["functions"].values():
        assert figures["seconds"] > 0
        assert figures["peak_rss_mb"] > 0
        assert figures["kind"] in ("api", "fl")
        assert figures["floor_seconds"] > 0
        assert figures["ratio"] > 0
        assert isinstance(figures["met"], bool)

    warm = results["warm_latency"]
    assert len(warm) == 13  # every API function
    for figures in warm.values():
        assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    for name in ("get_model_metrics", "get_model_logs"):
        assert warm[name]["floor"]["p50_ms"] > 0
        assert warm[name]["ratio"] > 0
        assert isinstance(warm[name]["met"], bool)

    for kind in ("logs", "metrics"):
        figures = results["ingestion"][kind]
        for path in (
            "handler",
            "handler_unnamed",
            "floor_batched_insert",
            "floor_rows_only",
            "floor_per_message",
        ):
            assert figures[path]["msg_per_s"] > 0
            assert figures[path]["messages"] > 0
        assert figures["unnamed_to_named"] > 0
        assert isinstance(figures["met"], bool)

    scaling = results["scaling"]
    assert len(scaling["steps"]) >= 2
    assert [step["rows"] for step in scaling["steps"]] == sorted(step["rows"] for step in scaling["steps"])
    for step in scaling["steps"]:
        assert step["metrics_p50_ms"] > 0
        assert step["logs_first_page_p50_ms"] > 0
        assert step["logs_deep_page_p50_ms"] > 0
    assert isinstance(scaling["metrics_goal"]["met"], bool)
    assert isinstance(scaling["logs_goal"]["met"], bool)

    stale = results["stale_runs"]
    assert "Stale-run sweep" in run.stdout
    assert stale["query"]["p50_ms"] > 0
    assert stale["explain"]["execution_ms"] > 0
    assert "flip_models_fl_logs_model_id_log_date_id" in stale["explain"]["indexes"]
    assert stale["sweep"]["failed"] == stale["sizes"]["stale"] > 0
    assert isinstance(stale["met"], bool)
    assert all(n >= 0 for n in _numbers(results))
