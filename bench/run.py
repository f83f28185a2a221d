"""``flip-models bench``: every section against its floor, printed as a table and written as JSON.

The run creates a database of its own (dropped afterwards), seeds the demo data (the sample events'
ids) and the benchmark's models, and points ``DATABASE_URL`` at it for the in-process handlers
(restored afterwards). ``quick`` is a small run for CI: tiny data, few repetitions, no 1M step.
The stale-run section builds a database of its own (``bench/stale_runs.py``; alone: ``python -m
bench.stale_runs``), and the load test a PostgreSQL cluster of its own, with PgBouncer in front
(``bench/load.py``; alone: ``flip-models bench --load``).

Every database is the service's kind (its migrations build an empty one) unless ``flip_schema`` (or
``FLIP_BENCH_SCHEMA=flip``): then each is FLIP's database, built from FLIP's DDL at its head and then
migrated (:mod:`bench.dataset`); the results say which (``schema``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench import coldstart, dataset, ingestion, ingress, lambdas, load, polling, scaling, stale_runs, warm
from bench.timing import goal

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"

#: Cold-start goals: ratio to the floor of the function's kind (issue 17: an API function costs no
#: more on its first event than importing its dependency stack; the SQS consumers keep issue 6's).
COLD_RATIO_GOAL = {"api": 1.0, "fl": 1.25}
COLD_RSS_GOAL_MB = 120.0
#: Functions that serve people or FL servers; the others' cold starts are reported only, for a reason.
INFORMATIONAL = {"migrate": "runs once per deploy", "fail_stale_runs": "runs on a schedule, for no caller"}
SERVING = frozenset(
    {
        "create_model",
        "delete_model",
        "delete_project_models",
        "edit_model",
        "get_model",
        "get_model_logs",
        "get_model_metrics",
        "get_model_status",
        "get_model_trusts",
        "get_model_progress",
        "list_models",
        "list_projects",
        "update_model_status",
        "fl_logs",
        "fl_metrics",
        "fl_status",
        "fl_ingress",
    }
)
#: Requests per level (1 and 50 senders) of the FL ingress's measurement.
INGRESS_REQUESTS = {False: 600, True: 60}


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one run."""

    quick: bool
    cold_repeat: int
    cold_functions: tuple[str, ...] | None  # None: every function of the template
    warm_rounds: int
    warm_logs: int
    warm_repeat: int
    ingest_messages: int
    scaling_steps: tuple[int, ...]
    scaling_repeat: int
    stale: stale_runs.Sizes
    load: load.Plan


FULL = Plan(
    False, 5, None, 200, 20_000, 50, 2000, (10_000, 100_000, 1_000_000), 10, stale_runs.FULL, load.FULL
)
QUICK = Plan(
    True,
    1,
    ("get_model_metrics", "fl_metrics", "fl_ingress"),
    10,
    1000,
    5,
    100,
    (1000, 5000),
    3,
    stale_runs.QUICK,
    load.QUICK,
)


def machine(engine: Engine) -> dict[str, Any]:
    """CPU count and model, memory, Python and PostgreSQL versions."""
    cpu_model = platform.processor() or "unknown"
    memory_mb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    with engine.connect() as connection:
        postgres = connection.execute(text("SHOW server_version")).scalar_one()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "postgresql": str(postgres),
        "platform": platform.platform(),
    }


@contextmanager
def _database_env(url: str) -> Iterator[None]:
    """``DATABASE_URL`` = the bench database for the in-process handlers; restored afterwards."""
    from flip_models.store import db

    previous = {"DATABASE_URL": os.environ.get("DATABASE_URL")}  # Powertools': bench/__init__.py
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    db.reset_engine()
    try:
        yield
    finally:
        db.reset_engine()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _fl_event(name: str, model: dataset.BenchModel) -> Callable[[int], Mapping[str, Any]]:
    """Fresh valid messages for an SQS consumer each round (nothing to dead-letter: no AWS)."""
    queue = lambdas.fl_queue(name.replace("_", "-") + (".fifo" if name == "fl_status" else ""))

    def event_of(round_: int) -> Mapping[str, Any]:
        tag = f"cold-{uuid.uuid4().hex[:8]}"
        if name == "fl_logs":
            bodies = ingestion.log_bodies(model, ingestion.BATCH, tag)
        elif name == "fl_metrics":
            bodies = ingestion.metric_bodies(model, ingestion.BATCH, tag)
        else:
            bodies = [{"model_id": str(model.model_id), "status": "RUNNING", "event_id": tag}]
        return lambdas.sqs_event(bodies, queue)

    return event_of


def _sample_event(name: str) -> Callable[[int], Mapping[str, Any]]:
    """The function's sample event from ``events/`` (its ids are the demo data's)."""
    sample: Mapping[str, Any] = json.loads((lambdas.ROOT / "events" / f"{name}.json").read_text())
    return lambda round_: sample


def _cold_probes(
    plan: Plan, model: dataset.BenchModel
) -> dict[str, tuple[Path, str, Callable[[int], Mapping[str, Any]]]]:
    """Each function's first event: the sample event for the API, the FL ingress and the migration (on the demo
    data), fresh valid messages for the SQS consumers."""
    return {
        name: (
            spec.code_uri,
            spec.handler,
            _fl_event(name, model) if spec.sqs_sources else _sample_event(name),
        )
        for name, spec in sorted(lambdas.functions().items())
        if plan.cold_functions is None or name in plan.cold_functions
    }


def cold_start(plan: Plan, url: str, model: dataset.BenchModel) -> dict[str, Any]:
    # The FL ingress's first event (events/fl_ingress.json) goes to a queue: LocalStack's, this run's.
    endpoint = ingress.localstack_endpoint()
    with ingress.ingress_queues(endpoint) as variables:
        extra = {
            **{name: value for name, value in variables.items() if name.endswith("_QUEUE_URL")},
            "AWS_ENDPOINT_URL": endpoint,
            "INTERNAL_SERVICE_KEY_HASH": hashlib.sha256(b"local-fl-server-key").hexdigest(),
        }
        before, measured = coldstart.measure_interleaved(
            _cold_probes(plan, model), plan.cold_repeat, coldstart.probe_environment(url, extra)
        )
    specs = lambdas.functions()
    functions: dict[str, Any] = {}
    for name, found in measured.items():
        kind = "api" if specs[name].api_routes else "fl"
        seconds = found.function.seconds
        ratio = seconds / found.floor.seconds
        serving = name in SERVING
        functions[name] = {
            "seconds": round(seconds, 3),
            "peak_rss_mb": round(found.function.peak_rss_mb, 1),
            "kind": kind,
            "floor_seconds": round(found.floor.seconds, 3),
            "ratio": round(ratio, 2),
            "ratio_to_floor_before": round(seconds / before.seconds, 2),
            **goal(
                f"ratio ≤ {COLD_RATIO_GOAL[kind]:g} and peak RSS ≤ {COLD_RSS_GOAL_MB:g} MB"
                + ("" if serving else f" (informational: {INFORMATIONAL.get(name, 'not serving')})"),
                ratio <= COLD_RATIO_GOAL[kind] and found.function.peak_rss_mb <= COLD_RSS_GOAL_MB,
            ),
            "serving": serving,
        }
    serving_met = all(f["met"] for f in functions.values() if f["serving"])
    return {
        "floor_before": {"seconds": round(before.seconds, 3), "peak_rss_mb": round(before.peak_rss_mb, 1)},
        "repeat": plan.cold_repeat,
        "functions": functions,
        **goal("every serving function within the ratio and RSS goals of its kind", serving_met),
    }


@contextmanager
def seeded_world(plan: Plan, flip: bool) -> Iterator[tuple[str, Engine, warm.WarmWorld]]:
    """A bench database of its own (the service's schema or FLIP's) with the demo data and the warm
    dataset, the functions' environment pointing at it, and stdout discarded (the handlers print their
    metrics there as Lambda expects): its URL, an engine (disposed after) and the warm world."""
    from flip_local.demo import seed_demo

    with (
        dataset.bench_database(flip) as url,
        _database_env(url),
        open(os.devnull, "w") as sink,
        redirect_stdout(sink),
    ):
        engine = dataset.engine(url)
        try:
            with Session(engine) as session:
                seed_demo(session)
                session.commit()
            print("bench: building the warm dataset…", file=sys.stderr)
            yield (
                url,
                engine,
                warm.build_world(engine, plan.warm_rounds, plan.warm_logs, plan.warm_repeat + 2),
            )
        finally:
            engine.dispose()


def run(quick: bool = False, out: Path = DEFAULT_OUT, flip_schema: bool | None = None) -> dict[str, Any]:
    """Run every section and write ``out``; returns the results. ``flip_schema``: on FLIP's database
    (default: ``FLIP_BENCH_SCHEMA``)."""
    plan = QUICK if quick else FULL
    flip = dataset.use_flip_schema(flip_schema)
    started = datetime.now(UTC)
    print(f"bench: on a {dataset.schema_name(flip)} database…", file=sys.stderr)
    with seeded_world(plan, flip) as (url, engine, world):
        results: dict[str, Any] = {
            "date": started.isoformat(timespec="seconds"),
            "quick": plan.quick,
            "schema": dataset.schema_name(flip),
            "machine": machine(engine),
            "dataset": {
                "warm_metric_rows": 5 * len(dataset.LABELS) * plan.warm_rounds,
                "warm_log_rows": plan.warm_logs,
            },
        }
        print("bench: cold start…", file=sys.stderr)
        results["cold_start"] = cold_start(plan, url, world.model)
        print("bench: warm latency…", file=sys.stderr)
        results["warm_latency"] = warm.measure(engine, world, plan.warm_repeat)
        print("bench: ingestion…", file=sys.stderr)
        results["ingestion"] = ingestion.measure(engine, world.model, plan.ingest_messages)
        print("bench: FL ingress…", file=sys.stderr)
        results["fl_ingress"] = ingress.measure(world.model, INGRESS_REQUESTS[plan.quick])
        print("bench: scaling…", file=sys.stderr)
        results["scaling"] = scaling.measure(
            engine,
            url,
            list(plan.scaling_steps),
            plan.scaling_repeat,
            watchers=polling.QUICK_WATCHERS if plan.quick else polling.WATCHERS,
        )
        print("bench: stale-run sweep…", file=sys.stderr)
        results["stale_runs"] = stale_runs.measure(plan.stale, flip)
        engine.dispose()  # the load test counts the server's connections: none of ours held
        print("bench: load…", file=sys.stderr)
        results["load"] = load.measure(plan.load, flip)
    results["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"\nwritten to {out}")
    return results


def run_load(quick: bool = False, out: Path = DEFAULT_OUT, flip_schema: bool | None = None) -> dict[str, Any]:
    """Only the load test (``flip-models bench --load``): its section of ``out`` replaced, the other
    sections kept as they are. ``flip_schema``: on FLIP's database (default: ``FLIP_BENCH_SCHEMA``)."""
    plan = QUICK if quick else FULL
    flip = dataset.use_flip_schema(flip_schema)
    started = datetime.now(UTC)
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        figures = load.measure(plan.load, flip)
    figures["date"] = started.isoformat(timespec="seconds")
    figures["quick"] = plan.quick
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    results["load"] = figures
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(load.render(figures)))
    print(f"\nwritten to {out} (its load section)")
    return results


def _mark(met: bool) -> str:
    return "met" if met else "NOT met"


def render(results: Mapping[str, Any]) -> str:
    """The results as a plain-text table."""
    m = results["machine"]
    lines = [
        f"flip-models bench {'(quick) ' if results['quick'] else ''}{results['date']}, "
        f"on a {results.get('schema', 'service')} database",
        f"{m['cpu_count']} × {m['cpu_model']}, {m['memory_mb']} MB, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}",
        "",
    ]
    cold = results["cold_start"]
    lines.append(
        f"Cold start (median of {cold['repeat']}; each function against its own floor, its dependency "
        f"modules + boto3, imported by both; issue 6's floor {cold['floor_before']['seconds']:.3f} s) — {_mark(cold['met'])}"
    )
    lines.append(f"  {'function':<24}{'seconds':>9}{'floor':>8}{'ratio':>7}{'issue 6':>9}{'RSS MB':>8}  goal")
    for name, f in cold["functions"].items():
        lines.append(
            f"  {name:<24}{f['seconds']:>9.3f}{f['floor_seconds']:>8.3f}{f['ratio']:>7.2f}"
            f"{f['ratio_to_floor_before']:>9.2f}"
            f"{f['peak_rss_mb']:>8.1f}  {_mark(f['met'])}{'' if f['serving'] else ' (info)'}"
        )
    lines += [
        "",
        "Warm latency (ms)",
        f"  {'function':<24}{'p50':>9}{'p95':>9}{'floor p50':>11}{'ratio':>8}  goal",
    ]
    for name, w in results["warm_latency"].items():
        floor = w.get("floor")
        lines.append(
            f"  {name:<24}{w['p50_ms']:>9.2f}{w['p95_ms']:>9.2f}"
            + (f"{floor['p50_ms']:>11.2f}{w['ratio']:>8.2f}  {_mark(w['met'])}" if floor else "")
        )
    lines += [
        "",
        "FL ingestion (messages/s, batches of 10; batched floor: rows + key rows, rows-only: no keys)",
        f"  {'queue':<10}{'handler':>10}{'batched':>10}{'rows-only':>10}{'per-msg':>10}{'×batched':>10}"
        f"{'×per-msg':>10}  goal",
    ]
    for kind, i in results["ingestion"].items():
        rows_only = i.get("floor_rows_only", {}).get("msg_per_s", float("nan"))
        lines.append(
            f"  {kind:<10}{i['handler']['msg_per_s']:>10.0f}{i['floor_batched_insert']['msg_per_s']:>10.0f}"
            f"{rows_only:>10.0f}{i['floor_per_message']['msg_per_s']:>10.0f}{i['ratio_to_batched']:>10.2f}"
            f"{i['ratio_to_per_message']:>10.2f}  {_mark(i['met'])}"
        )
    named = {kind: i for kind, i in results["ingestion"].items() if "handler_unnamed" in i}
    if named:
        lines.append(
            "  the batch statement unnamed (as behind a pooler), direct: "
            + ", ".join(
                f"{kind} {i['handler_unnamed']['msg_per_s']:.0f} msg/s ({i['unnamed_to_named']:.2f}× named)"
                for kind, i in named.items()
            )
        )
    if "fl_ingress" in results:
        lines += ["", *ingress.render(results["fl_ingress"])]
    s = results["scaling"]
    lines += [
        "",
        f"Scaling — metrics {_mark(s['metrics_goal']['met'])}, metrics body "
        f"{_mark(s['metrics_body_goal']['met'])}, logs page {_mark(s['logs_goal']['met'])}, metrics at the "
        f"largest step vs its floor {_mark(s['metrics_floor_goal']['met'])}",
        f"  {'rows':>9}{'metrics ms':>12}{'floor ms':>10}{'µs/row':>8}{'MB':>8}{'body KB':>9}"
        f"{'logs p1 ms':>12}{'deep ms':>9}{'MB':>7}",
    ]
    for step in s["steps"]:
        lines.append(
            f"  {step['rows']:>9}{step['metrics_p50_ms']:>12.1f}{step['metrics_floor_p50_ms']:>10.1f}"
            f"{step['metrics_us_per_row']:>8.2f}{step['metrics_peak_mb']:>8.1f}"
            f"{step['metrics_body_bytes'] / 1024:>9.0f}{step['logs_first_page_p50_ms']:>12.2f}"
            f"{step['logs_deep_page_p50_ms']:>9.2f}{step['logs_page_peak_mb']:>7.1f}"
        )
    long = s["long_text_logs_page"]
    lines.append(
        f"  a logs page of 2 KiB texts at {long['rows']} rows: {long['page_p50_ms']:.1f} ms, "
        f"{long['page_rows']} rows, {long['page_bytes'] / 2**20:.2f} MB, next page: {long['has_next_page']} "
        f"— {_mark(s['long_text_page_goal']['met'])}"
    )
    if "polling" in s:
        lines += ["", *polling.render(s["polling"])]
    lines += ["", *stale_runs.render(results["stale_runs"])]
    if "load" in results:
        lines += ["", *load.render(results["load"])]
    return "\n".join(lines)
