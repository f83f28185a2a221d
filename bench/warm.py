"""Warm latency of every API function, and the raw-SQL floors of the two heavy reads.

Each function is called in-process (imported once, so every timed call is a warm invocation) on the
warm dataset: one RUNNING model with 5 trusts × 200 rounds × 4 labels of metrics and 20,000 log
rows. The floor of ``get_model_metrics`` and of one ``get_model_logs`` page is the SQL of the same
read sent through the same driver (pg8000) on a raw connection, rows fetched, nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bench import dataset, lambdas
from bench.timing import goal, summary_ms, time_calls
from flip_models.core.logs import LOGS_DEFAULT_LIMIT
from flip_models.core.metrics import DEFAULT_MAX_POINTS, METRICS_SQL, POINT_BUDGET

#: The SQL of one logs page (what ``model_queries.get_logs_page`` sends), for the floor.
LOGS_PAGE_SQL = """
SELECT l.id, l.model_id, l.log_date, l.success, t.name, t.code, l.global_round, l.log, l.event_type,
       l.details
FROM fl_logs AS l LEFT OUTER JOIN trust AS t ON t.id = l.trust
WHERE l.model_id = %s
ORDER BY l.log_date, l.id
LIMIT %s
"""

#: Goal: these reads within 1.5× their raw-SQL floor (p50; issue 26 set it back from 2×).
FLOOR_GOAL = 1.5


@dataclass(frozen=True)
class WarmWorld:
    """The warm dataset's model, and spare models and projects for the calls that consume one."""

    model: dataset.BenchModel
    pending_model: uuid.UUID
    running_models: list[uuid.UUID]  # each stopped once (a person's stop needs a run)
    doomed_models: list[uuid.UUID]
    doomed_projects: list[uuid.UUID]


def build_world(engine: Engine, rounds: int, log_rows: int, spares: int) -> WarmWorld:
    """The warm dataset (5 trusts × ``rounds`` × 4 labels, ``log_rows`` logs) and spare targets."""
    model = dataset.create_model(engine, trusts=5, slot_offset=100)
    dataset.fill_metrics(engine, model, 5 * len(dataset.LABELS) * rounds)
    dataset.fill_logs(engine, model, log_rows)
    (pending,) = dataset.add_pending_models(engine, model, 1)
    running = dataset.add_pending_models(engine, model, spares, status="RUNNING")
    doomed = dataset.add_pending_models(engine, model, spares)
    projects = [dataset.add_project_with_model(engine, model) for _ in range(spares)]
    return WarmWorld(model, pending, running, doomed, projects)


def _calls(world: WarmWorld) -> dict[str, Callable[[int], dict[str, Any]]]:
    """Function name → the event of call ``i`` (negative ``i`` for warm-up calls)."""
    m = world.model
    owner = m.owner_id
    model = {"modelId": str(m.model_id)}

    def doomed(pool: list[uuid.UUID], i: int) -> str:
        return str(pool[i % len(pool)] if i >= 0 else pool[len(pool) + i])

    return {
        "get_model": lambda i: lambdas.api_event("get_model", owner, model),
        "get_model_status": lambda i: lambdas.api_event("get_model_status", owner, model),
        "get_model_trusts": lambda i: lambdas.api_event("get_model_trusts", owner, model),
        "get_model_metrics": lambda i: lambdas.api_event("get_model_metrics", owner, model),
        "get_model_logs": lambda i: lambdas.api_event("get_model_logs", owner, model),
        "get_model_progress": lambda i: lambdas.api_event("get_model_progress", owner, model),
        "list_models": lambda i: lambdas.api_event("list_models", owner, query="pageSize=20"),
        "list_projects": lambda i: lambdas.api_event("list_projects", owner),
        "create_model": lambda i: lambdas.api_event(
            "create_model", owner, body={"name": f"bench {i}", "projectId": str(m.project_id)}
        ),
        "edit_model": lambda i: lambdas.api_event(
            "edit_model", owner, {"modelId": str(world.pending_model)}, body={"name": f"edited {i}"}
        ),
        "update_model_status": lambda i: lambdas.api_event(
            "update_model_status",
            owner,
            {"modelId": doomed(world.running_models, i), "status": "STOPPED"},
        ),
        "delete_model": lambda i: lambdas.api_event(
            "delete_model", owner, {"modelId": doomed(world.doomed_models, i)}
        ),
        "delete_project_models": lambda i: lambdas.api_event(
            "delete_project_models", owner, {"projectId": doomed(world.doomed_projects, i)}
        ),
    }


def _floor(engine: Engine, sql: str, params: tuple[Any, ...]) -> Callable[[int], None]:
    """The same read on a raw pg8000 connection: execute, fetch every row, end the transaction."""
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert connection is not None

    def read(_: int) -> None:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        cursor.fetchall()
        connection.rollback()

    return read


def metrics_sql() -> str:
    """The service's metrics query, in pg8000's ``format`` paramstyle (its parameters:
    :func:`metrics_params`)."""
    sql = str(METRICS_SQL)
    for name in (":model_id", ":max_points", ":budget"):  # in the order they appear
        sql = sql.replace(name, "%s")
    return sql


def metrics_params(model_id: str) -> tuple[str, int, int]:
    """The query's parameters as the handler passes them by default (``maxPoints`` 1,000)."""
    return (model_id, DEFAULT_MAX_POINTS, POINT_BUDGET)


def measure(engine: Engine, world: WarmWorld, repeat: int) -> dict[str, Any]:
    """p50/p95 per API function; floors and ratios for get_model_metrics and get_model_logs."""
    context = lambdas.context()
    results: dict[str, Any] = {}
    for name, event_of in _calls(world).items():
        handler = lambdas.load_handler(name)

        def call(i: int, name: str = name, handler: Any = handler, event_of: Any = event_of) -> None:
            lambdas.check_api(name, handler(event_of(i), context))

        warmup = 2 if name not in ("delete_model", "delete_project_models") else 1
        results[name] = summary_ms(time_calls(call, repeat, warmup=warmup))
    model_id = str(world.model.model_id)
    floors = {
        "get_model_metrics": _floor(engine, metrics_sql(), metrics_params(model_id)),
        "get_model_logs": _floor(engine, LOGS_PAGE_SQL, (model_id, LOGS_DEFAULT_LIMIT + 1)),
    }
    for name, read in floors.items():
        floor = summary_ms(time_calls(read, repeat))
        ratio = results[name]["p50_ms"] / floor["p50_ms"]
        results[name].update(
            {
                "floor": floor,
                "ratio": round(ratio, 2),
                **goal(f"p50 ≤ {FLOOR_GOAL:g}× raw SQL floor", ratio <= FLOOR_GOAL),
            }
        )
    return results
