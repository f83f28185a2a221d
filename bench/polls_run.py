"""``python -m bench.polls_run``: the sections issue 26 changed, alone: warm latency (the reads against
their floors) and scaling with its polling section (10k and 1M rows, pages watching), written to
``bench/results-polling.json`` and printed as the bench's table does. The full ``make bench`` runs
them too, with every other section."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import dataset, polling, run, scaling, warm

OUT = Path(__file__).resolve().parent / "results-polling.json"


def main(steps: tuple[int, ...] = (10_000, 1_000_000)) -> dict[str, Any]:
    plan = run.FULL
    flip = dataset.use_flip_schema(None)
    started = datetime.now(UTC)
    with run.seeded_world(plan, flip) as (url, engine, world):
        results: dict[str, Any] = {
            "date": started.isoformat(timespec="seconds"),
            "schema": dataset.schema_name(flip),
            "machine": run.machine(engine),
        }
        print("bench: warm latency…", file=sys.stderr)
        results["warm_latency"] = warm.measure(engine, world, plan.warm_repeat)
        print("bench: scaling and polling…", file=sys.stderr)
        results["scaling"] = scaling.measure(engine, url, list(steps), plan.scaling_repeat, polling.WATCHERS)
    results["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    figures = main()
    for name in ("get_model_metrics", "get_model_logs"):
        w = figures["warm_latency"][name]
        print(
            f"{name}: p50 {w['p50_ms']} ms, floor {w['floor']['p50_ms']} ms, ratio {w['ratio']} ({w['goal']}: {w['met']})"
        )
    s = figures["scaling"]
    for step in s["steps"]:
        print(
            f"{step['rows']:>9} rows: metrics {step['metrics_p50_ms']} ms (floor {step['metrics_floor_p50_ms']}, "
            f"{step['metrics_ratio_to_floor']}×), logs first {step['logs_first_page_p50_ms']} ms, deep {step['logs_deep_page_p50_ms']} ms"
        )
    print(s["metrics_floor_goal"])
    print("\n".join(polling.render(s["polling"])))
