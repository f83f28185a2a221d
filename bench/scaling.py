"""Scaling: ``get_model_metrics`` and one ``get_model_logs`` page as a model grows.

Each step adds a model with N metric rows and N log rows (the tables keep every earlier step's rows
too), then times the handlers in-process (warm), the metrics query's raw-SQL floor (for reference:
how much of the cost is PostgreSQL and the driver), and measures the memory one call takes in a fresh
interpreter: its peak RSS minus its RSS just before the call, after a warm-up call on another model.
Goals: metrics cost grows at most linearly (time per row does not rise between steps, nor memory
per row between the two largest, beyond 20 % noise) and its body stays under 5 MB at every step (the
series are downsampled); a logs page, first or deep (keyset cursor), stays flat (within 1.5× across
steps). At the largest step, a logs page of 2 KiB texts (tracebacks) too: its time, size and rows.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, Text, cast, select, text

from bench import coldstart, dataset, lambdas, polling
from bench import warm as warm_latency
from bench.timing import goal, time_calls
from flip_models.core.log_cursor import LogCursor, encode_log_cursor
from flip_models.core.logs import LOGS_DEFAULT_LIMIT
from flip_models.store.tables import FLLogs

LINEAR_SLACK = 1.2
FLAT_SLACK = 1.5
#: Goal (issue 26): metrics at the largest step within this many times the raw SQL that returns the
#: same rows: the service's own query on a raw connection (each series sorted; one that fits as text,
#: a longer one as its float8s in binary, which the handler unpacks in C before its LTTB).
LARGEST_FLOOR_GOAL = 1.2
#: SPEC §4: every response body under 5 MB (Lambda's limit is 6 MB).
BODY_LIMIT_BYTES = 5 * 1024 * 1024

_MEMORY_PROBE = """
import json, sys, gc
sys.path.insert(0, {code_uri!r})
handler = __import__("app").lambda_handler
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-2:000000000000:function:bench"
    def get_remaining_time_in_millis(self): return 30000
def status(key):
    return int([l for l in open("/proc/self/status") if l.startswith(key)][0].split()[1]) * 1024
handler(json.loads({warm!r}), Context())
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current RSS
before = status("VmRSS")
response = handler(json.loads({event!r}), Context())
peak = status("VmHWM")
print(json.dumps({{"growth_mb": max(0, peak - before) / 2**20, "ok": response["statusCode"] == 200}}))
"""


def _memory_mb(name: str, event: Mapping[str, Any], warm: Mapping[str, Any], database_url: str) -> float:
    """Peak RSS growth (MB) of one call of ``name`` on ``event`` in a fresh interpreter."""
    code_uri = lambdas.functions()[name].code_uri
    code = _MEMORY_PROBE.format(code_uri=str(code_uri), warm=json.dumps(warm), event=json.dumps(event))
    measured = coldstart._run(code, code_uri, coldstart.probe_environment(database_url))
    if not measured["ok"]:
        raise RuntimeError(f"{name}: the memory probe's call failed")
    return round(float(measured["growth_mb"]), 1)


def _deep_cursor(engine: Engine, model_id: uuid.UUID, rows: int) -> str:
    """The cursor of a page near the end of the model's logs (keyset, not offset): the date as
    PostgreSQL stores it, as the service's cursors carry it."""
    with engine.connect() as connection:
        log_date, log_id = connection.execute(
            select(cast(FLLogs.log_date, Text), FLLogs.id)
            .where(FLLogs.model_id == model_id)
            .order_by(FLLogs.log_date, FLLogs.id)
            .offset(max(0, rows - LOGS_DEFAULT_LIMIT - 100))
            .limit(1)
        ).one()
    if log_date is None:  # the bench's rows all have one
        raise RuntimeError("a bench log row without its log_date")
    return encode_log_cursor(LogCursor("after", log_date, log_id))


def _body_bytes(name: str, event: Mapping[str, Any]) -> int:
    """The size of one answer's body."""
    response = lambdas.load_handler(name)(dict(event), lambdas.context())
    lambdas.check_api(name, response)
    return len(str(response["body"]).encode())


def _long_text_page(engine: Engine, rows: int, repeat: int) -> dict[str, Any]:
    """A model of ``rows`` 2 KiB texts (a client's traceback each): one page at the default limit."""
    model = dataset.create_model(engine, trusts=1, slot_offset=900)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO fl_logs (id, model_id, log_date, success, log) "
                "SELECT gen_random_uuid(), :m, now() - interval '1 day' + n * interval '1 millisecond', false, "
                "'Traceback (most recent call last):' || repeat('x', 2014) || n "
                "FROM generate_series(1, :rows) AS n"
            ),
            {"m": model.model_id, "rows": rows},
        )
        connection.execute(text("ANALYZE fl_logs"))
    event = lambdas.api_event("get_model_logs", model.owner_id, {"modelId": str(model.model_id)})
    response = lambdas.load_handler("get_model_logs")(dict(event), lambdas.context())
    return {
        "rows": rows,
        "page_p50_ms": _p50_ms("get_model_logs", event, repeat),
        "page_rows": len(json.loads(response["body"])),
        "page_bytes": len(str(response["body"]).encode()),
        "has_next_page": "X-Next-Cursor" in (response.get("multiValueHeaders") or {}),
    }


def _p50_ms(name: str, event: Mapping[str, Any], repeat: int) -> float:
    handler = lambdas.load_handler(name)
    context = lambdas.context()

    def call(_: int) -> None:
        lambdas.check_api(name, handler(dict(event), context))

    return round(statistics.median(time_calls(call, repeat, warmup=1)) * 1000, 3)


def measure(
    engine: Engine,
    database_url: str,
    steps: list[int],
    repeat: int,
    watchers: tuple[int, ...] = polling.WATCHERS,
) -> dict[str, Any]:
    """Per step: metrics p50 and memory, first and deep logs page p50 and memory; the two goals."""
    results: list[dict[str, Any]] = []
    polls: list[dict[str, Any]] = []
    warm_model = dataset.create_model(engine, trusts=5, slot_offset=200)
    warm = {"modelId": str(warm_model.model_id)}
    owner = warm_model.owner_id
    for index, rows in enumerate(steps):
        model = dataset.create_model(engine, trusts=5, slot_offset=300 + 10 * index)
        dataset.fill_metrics(engine, model, rows)
        dataset.fill_logs(engine, model, rows)
        target = {"modelId": str(model.model_id)}
        metrics_event = lambdas.api_event("get_model_metrics", model.owner_id, target)
        first_page = lambdas.api_event("get_model_logs", model.owner_id, target)
        deep_page = lambdas.api_event(
            "get_model_logs",
            model.owner_id,
            target,
            query=f"cursor={_deep_cursor(engine, model.model_id, rows)}",
        )
        # Fewer repetitions as the model grows: the largest metrics call takes seconds.
        metric_repeat = max(5, repeat * 10_000 // max(rows, 10_000))
        metrics_ms = _p50_ms("get_model_metrics", metrics_event, metric_repeat)
        floor = warm_latency._floor(
            engine, warm_latency.metrics_sql(), warm_latency.metrics_params(str(model.model_id))
        )
        floor_ms = round(statistics.median(time_calls(floor, metric_repeat, warmup=1)) * 1000, 3)
        results.append(
            {
                "rows": rows,
                "metrics_p50_ms": metrics_ms,
                "metrics_us_per_row": round(metrics_ms * 1000 / rows, 3),
                "metrics_floor_p50_ms": floor_ms,
                "metrics_ratio_to_floor": round(metrics_ms / floor_ms, 2),
                "metrics_body_bytes": _body_bytes("get_model_metrics", metrics_event),
                "metrics_peak_mb": _memory_mb(
                    "get_model_metrics",
                    metrics_event,
                    lambdas.api_event("get_model_metrics", owner, warm),
                    database_url,
                ),
                "logs_first_page_p50_ms": _p50_ms("get_model_logs", first_page, repeat),
                "logs_deep_page_p50_ms": _p50_ms("get_model_logs", deep_page, repeat),
                "logs_page_peak_mb": _memory_mb(
                    "get_model_logs",
                    deep_page,
                    lambdas.api_event("get_model_logs", owner, warm),
                    database_url,
                ),
            }
        )
        # Polling (issue 26), once this step's own figures are taken: the model gets a run.
        print(f"bench: polling at {rows:,} rows…", file=sys.stderr)
        polls.append(polling.measure_step(engine, model, rows, repeat))
    print("bench: pages watching a run…", file=sys.stderr)
    watching = polling.watch(engine, model, watchers)
    long_texts = _long_text_page(engine, steps[-1], repeat)
    return {
        "steps": results,
        "long_text_logs_page": long_texts,
        **_goals(results, long_texts),
        "polling": {"steps": polls, **polling.goals(polls), "watching": watching},
    }


def _goals(steps: list[dict[str, Any]], long_texts: Mapping[str, Any]) -> dict[str, Any]:
    linear = all(
        later["metrics_us_per_row"] <= LINEAR_SLACK * earlier["metrics_us_per_row"]
        for earlier, later in itertools.pairwise(steps)
    )
    # Memory is judged between the two largest steps: at the smallest, one call's RSS growth (about
    # 1 MB) is within what the allocator reuses from the warm-up call, so it understates the per-row
    # cost rather than revealing growth. Every step's figure is still reported.
    big = steps[-2:] if len(steps) > 2 else steps
    memory_linear = all(
        later["metrics_peak_mb"] / later["rows"]
        <= LINEAR_SLACK * max(earlier["metrics_peak_mb"], 1.0) / earlier["rows"]
        for earlier, later in itertools.pairwise(big)
    )
    first, last = steps[0], steps[-1]
    flat = all(
        last[key] <= FLAT_SLACK * first[key] for key in ("logs_first_page_p50_ms", "logs_deep_page_p50_ms")
    )
    small_bodies = all(step["metrics_body_bytes"] <= BODY_LIMIT_BYTES for step in steps)
    return {
        "metrics_goal": goal(
            f"metrics time per row (every step) and memory per row (largest steps) rise ≤ {LINEAR_SLACK:g}×",
            linear and memory_linear,
        ),
        "metrics_body_goal": goal("metrics body ≤ 5 MB at every step", small_bodies),
        "logs_goal": goal(f"a logs page at the largest step ≤ {FLAT_SLACK:g}× the smallest", flat),
        "metrics_floor_goal": goal(
            f"metrics at the largest step ≤ {LARGEST_FLOOR_GOAL:g}× its raw-SQL floor",
            last["metrics_ratio_to_floor"] <= LARGEST_FLOOR_GOAL,
        ),
        "long_text_page_goal": goal(
            "a page of 2 KiB texts ≤ 4 MB, the rest behind its cursor",
            long_texts["page_bytes"] <= 4_000_000
            and (long_texts["has_next_page"] or long_texts["rows"] <= long_texts["page_rows"]),
        ),
    }
