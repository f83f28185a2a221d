"""Polling (issue 26): what a poll costs when nothing changed, against the full read of the same route;
the progress card as a run grows; and pages watching a run.

At each scaling step (:mod:`bench.scaling`: a model of N log rows and N metric rows) the model gets a
run (:func:`add_run`: a job started before its first row, every trust on its roster, a round start
every 20 rows), then each polled route is timed warm, in-process: the full read (no ``If-None-Match``)
and the matching poll (the tag of the last answer sent back: a ``304``), and the web app's ``POST
/step/model/{id}`` built afresh (its container's pages emptied before each call) and answered from
the container's pages. Goals: a matching poll ≤ :data:`UNCHANGED_GOAL` × the full read at every
step; the progress card at the largest step ≤ :data:`PROGRESS_GOAL` × at the smallest.

:func:`watch` simulates N open model pages over one run (N = 10, 100, 1,000; distinct researchers,
each with an access row), each polling as the web app does every 5 s (the page's ``POST``, the logs
page and the progress card), through the local stack's handlers: the first load, then unchanged
polls, then a poll after a new log line. It reports the database statements and the bytes (body and
headers, as Lambda sends them) per poll, and the time a round of N polls takes in one container.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text

from bench import dataset, lambdas
from bench.timing import goal, time_calls
from flip_models.store import db

#: Goal: a poll of an unchanged answer costs at most this share of the full read (p50).
UNCHANGED_GOAL = 0.25
#: Goal: the progress card at the largest step within this many times its cost at the smallest.
PROGRESS_GOAL = 2.0
#: The routes a page polls, as (function, method): the GETs revalidate, the POST is answered warm.
GETS = (
    "get_model",
    "get_model_status",
    "get_model_trusts",
    "get_model_logs",
    "get_model_metrics",
    "get_model_progress",
    "list_models",
)
#: Rows per round in :func:`bench.dataset.fill_logs` (``global_round = 1 + i / 20``).
ROWS_PER_ROUND = 20
WATCHERS = (10, 100, 1000)
QUICK_WATCHERS = (10,)


def add_run(engine: Engine, model: dataset.BenchModel, rows: int) -> None:
    """The model's current run over its ``rows`` log rows: a job (IN_PROGRESS) started before the
    first, every trust on its roster, and a ``ROUND_STARTED`` before each round. Without the run's
    total: a card with a countdown (time left) changes with the clock alone, so its tag does too,
    and it is never unchanged; without one the card changes only with the rows."""
    rounds = 1 + rows // ROWS_PER_ROUND
    job = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO fl_job (id, model_id, status, created, started) "
                "VALUES (:id, :m, 'IN_PROGRESS', now() - make_interval(secs => :rows + 60), "
                "now() - make_interval(secs => :rows + 30))"
            ),
            {"id": job, "m": model.model_id, "rows": rows},
        )
        connection.execute(
            text(
                "INSERT INTO fl_job_trust (fl_job_id, trust_id) SELECT :job, unnest(CAST(:trusts AS uuid[]))"
            ),
            {"job": job, "trusts": [str(t) for t in model.trust_ids]},
        )
        connection.execute(
            text(
                """
                INSERT INTO fl_logs (id, model_id, log_date, success, log, event_type, global_round, details)
                SELECT gen_random_uuid(), :m,
                       now() - make_interval(secs => :rows - :per_round * (r - 1)) - interval '500 ms',
                       true, NULL, 'ROUND_STARTED', r, jsonb_build_object('round', r)
                FROM generate_series(1, :rounds) AS r
                """
            ),
            {"m": model.model_id, "rows": rows, "rounds": rounds, "per_round": ROWS_PER_ROUND},
        )
        connection.execute(text("ANALYZE fl_logs"))
        connection.execute(text("ANALYZE fl_job"))


def _events(model: dataset.BenchModel) -> dict[str, dict[str, Any]]:
    target = {"modelId": str(model.model_id)}
    found = {name: lambdas.api_event(name, model.owner_id, target) for name in GETS if name != "list_models"}
    found["list_models"] = lambdas.api_event("list_models", model.owner_id, query="pageSize=20")
    return found


def _with_tag(event_: Mapping[str, Any], tag: str) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(event_))
    changed["headers"]["If-None-Match"] = tag
    changed["multiValueHeaders"]["If-None-Match"] = [tag]
    return changed


def _tag(response: Mapping[str, Any]) -> str:
    headers = response.get("multiValueHeaders") or {}
    return str(headers["ETag"][0])


def _p50_ms(call: Callable[[int], Any], repeat: int) -> float:
    return round(statistics.median(time_calls(call, repeat, warmup=1)) * 1000, 3)


def _pages() -> Any:
    """The model page's warm pages (the module the bench imported)."""
    return sys.modules["bench_get_model_app"].pages


def measure_step(engine: Engine, model: dataset.BenchModel, rows: int, repeat: int) -> dict[str, Any]:
    """At one step: per polled route, the full read's and the matching poll's p50 and their ratio;
    the page's POST built and answered warm."""
    add_run(engine, model, rows)
    context = lambdas.context()
    found: dict[str, Any] = {"rows": rows}
    for name, event_ in _events(model).items():
        handler = lambdas.load_handler(name)
        first = handler(dict(event_), context)
        lambdas.check_api(name, first)
        conditional = _with_tag(event_, _tag(first))
        # The metrics' full read takes seconds at 1M rows: fewer repetitions as the model grows.
        times = max(5, repeat * 10_000 // max(rows, 10_000)) if name == "get_model_metrics" else repeat

        def full(_: int, handler: Any = handler, event_: Any = event_, name: str = name) -> None:
            lambdas.check_api(name, handler(dict(event_), context))

        def unchanged(_: int, handler: Any = handler, conditional: Any = conditional) -> None:
            status = handler(dict(conditional), context)["statusCode"]
            if status != 304:
                raise RuntimeError(f"an unchanged poll answered {status}")

        full_ms, unchanged_ms = _p50_ms(full, times), _p50_ms(unchanged, max(repeat, 20))
        found[name] = {
            "full_p50_ms": full_ms,
            "unchanged_p50_ms": unchanged_ms,
            "ratio": round(unchanged_ms / full_ms, 3),
        }
    post = lambdas.api_event("get_model", model.owner_id, {"modelId": str(model.model_id)}, method="POST")
    handler = lambdas.load_handler("get_model")

    def built(_: int) -> None:
        _pages().clear()
        lambdas.check_api("get_model", handler(dict(post), context))

    def warm(_: int) -> None:
        lambdas.check_api("get_model", handler(dict(post), context))

    built_ms, warm_ms = _p50_ms(built, repeat), _p50_ms(warm, max(repeat, 20))
    found["post_step_model"] = {
        "full_p50_ms": built_ms,
        "unchanged_p50_ms": warm_ms,
        "ratio": round(warm_ms / built_ms, 3),
    }
    found["progress_p50_ms"] = found["get_model_progress"]["full_p50_ms"]
    return found


def goals(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The two goals over the steps measured."""
    routes = [*GETS, "post_step_model"]
    cheap = all(step[route]["ratio"] <= UNCHANGED_GOAL for step in steps for route in routes)
    first, last = steps[0], steps[-1]
    progress = last["progress_p50_ms"] <= PROGRESS_GOAL * first["progress_p50_ms"]
    return {
        "unchanged_goal": goal(
            f"an unchanged poll ≤ {UNCHANGED_GOAL:g}× the full read, every route and step", cheap
        ),
        "progress_goal": goal(
            f"progress at {last['rows']:,} log rows ≤ {PROGRESS_GOAL:g}× at {first['rows']:,}", progress
        ),
    }


@contextmanager
def _counting() -> Iterator[list[str]]:
    """The statements the handlers' engine sends (transaction control included: each is a round trip)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _size(response: Mapping[str, Any]) -> int:
    """Bytes of a response as Lambda sends it (the whole object as JSON)."""
    return len(json.dumps(response).encode())


def _round_of_polls(
    pages: list[dict[str, dict[str, Any]]],
    tags: list[dict[str, str]],
    handlers: Mapping[str, Callable[[dict[str, Any], Any], Any]],
) -> dict[str, float]:
    """Each page polls once (the GETs with the tag of their last answer); statements and bytes per poll."""
    context = lambdas.context()
    with _counting() as statements:
        started = time.perf_counter()
        sent = 0
        polls = 0
        for index, page in enumerate(pages):
            for name, event_ in page.items():
                tag = tags[index].get(name)
                request = _with_tag(event_, tag) if tag and name != "get_model" else dict(event_)
                response = handlers[name](request, context)
                if response["statusCode"] == 200:
                    tags[index][name] = _tag(response)
                elif response["statusCode"] != 304:
                    raise RuntimeError(f"{name} answered {response['statusCode']}")
                sent += _size(response)
                polls += 1
        seconds = time.perf_counter() - started
    return {
        "statements_per_poll": round(len(statements) / polls, 2),
        "bytes_per_poll": round(sent / polls),
        "round_seconds": round(seconds, 3),
    }


def watch(engine: Engine, model: dataset.BenchModel, watchers: tuple[int, ...] = WATCHERS) -> dict[str, Any]:
    """N open pages over the run of ``model``, each a distinct researcher polling the page's POST,
    the logs page and the progress card: statements and bytes per poll, first load, unchanged, and
    after a new log line; and how long a round of N polls takes in one container."""
    handlers = {
        name: lambdas.load_handler(name) for name in ("get_model", "get_model_logs", "get_model_progress")
    }
    results: dict[str, Any] = {}
    for count in watchers:
        people = [uuid.uuid4() for _ in range(count)]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO project_user_access (id, project_id, user_id) "
                    "SELECT gen_random_uuid(), :p, unnest(CAST(:people AS uuid[]))"
                ),
                {"p": model.project_id, "people": [str(p) for p in people]},
            )
        target = {"modelId": str(model.model_id)}
        pages = [
            {
                "get_model": lambdas.api_event("get_model", person, target, method="POST"),
                "get_model_logs": lambdas.api_event("get_model_logs", person, target),
                "get_model_progress": lambdas.api_event("get_model_progress", person, target),
            }
            for person in people
        ]
        tags: list[dict[str, str]] = [{} for _ in pages]
        _pages().clear()

        first = _round_of_polls(pages, tags, handlers)
        unchanged = _round_of_polls(pages, tags, handlers)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO fl_logs (id, model_id, log_date, success, trust, log) "
                    "VALUES (gen_random_uuid(), :m, now(), true, :t, 'a new line')"
                ),
                {"m": model.model_id, "t": model.trust_ids[0]},
            )
        changed = _round_of_polls(pages, tags, handlers)
        results[str(count)] = {"first_load": first, "unchanged": unchanged, "after_a_log_line": changed}
    return results


def render(figures: Mapping[str, Any]) -> list[str]:
    """The polling section as lines of the bench's table."""
    lines = [
        f"Polling (issue 26) — unchanged polls {_mark(figures['unchanged_goal']['met'])}, "
        f"progress {_mark(figures['progress_goal']['met'])}",
        f"  {'route':<22}" + "".join(f"{'full ms':>10}{'304 ms':>9}{'ratio':>7}" for _ in figures["steps"]),
        f"  {'(rows)':<22}" + "".join(f"{step['rows']:>26,}" for step in figures["steps"]),
    ]
    for route in [*GETS, "post_step_model"]:
        lines.append(
            f"  {route:<22}"
            + "".join(
                f"{step[route]['full_p50_ms']:>10.2f}{step[route]['unchanged_p50_ms']:>9.2f}{step[route]['ratio']:>7.2f}"
                for step in figures["steps"]
            )
        )
    lines.append("  pages watching (per poll: statements, bytes; seconds per round of polls)")
    for count, rounds in figures["watching"].items():
        lines.append(
            f"  {count:>6} pages: "
            + ", ".join(
                f"{phase} {r['statements_per_poll']:.1f} st, {r['bytes_per_poll']} B, {r['round_seconds']:.2f} s"
                for phase, r in rounds.items()
            )
        )
    return lines


def _mark(met: bool) -> str:
    return "met" if met else "NOT met"
