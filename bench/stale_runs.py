"""The stale-run sweep (SPEC §8): the cost of its candidate query at a realistic scale, and of a sweep.

A database of the section's own (so the sizes are exactly these): ``models`` models in one project,
``active`` of them in flight (``INITIATED``/``PREPARED``/``RUNNING``, ``stale`` of those silent for
hours, the others heard from a minute ago) and the rest finished, stopped, errored or pending;
``logs`` ``fl_logs`` rows and ``metrics`` ``fl_metrics`` rows spread evenly over every model; a
job per model (and an older one for a quarter of them), a busy scheduler per run in flight, audit
rows per stage. Generated in SQL, then ``VACUUM ANALYZE`` (the steady state autovacuum keeps an
append-mostly table in: statistics and visibility map up to date).

Figures: the candidate query's ``EXPLAIN (ANALYZE, BUFFERS)`` (planning and execution time, shared
buffers, the indexes the plan reads), its p50/p95 through :func:`find_stale_runs` (a session, the
query, its rows; warm), one sweep that fails the stale runs, and a second that finds nothing.
Goal: the candidate query's p50 under 100 ms.

``python -m bench.stale_runs [--quick]`` runs this section alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from bench import dataset
from bench.timing import goal, summary_ms, time_calls
from flip_models.fl.stale_runs import fail_stale_runs, find_stale_runs, stale_runs_query
from flip_models.observability import logger, metrics

#: The sweep's threshold (the template's default).
MINUTES = 120
#: Goal: the candidate query's p50, in milliseconds.
QUERY_GOAL_MS = 100.0


@dataclass(frozen=True)
class Sizes:
    models: int
    active: int
    stale: int
    logs: int
    metrics: int
    repeat: int


FULL = Sizes(models=1000, active=300, stale=30, logs=1_000_000, metrics=100_000, repeat=30)
QUICK = Sizes(models=40, active=12, stale=3, logs=8_000, metrics=2_000, repeat=3)

#: One statement per table; ``:models`` etc. are the sizes. Model ``i`` is stale when ``i <=
#: :stale``, in flight (alive) when ``i <= :active``, finished otherwise; its timeline starts at
#: ``origin`` (alive runs started a day ago and spoke a minute ago, stale ones went quiet 3 to 10
#: hours ago, finished ones ended days ago). FLIP's tables: every id and NOT NULL timestamp set here
#: (naive UTC: the session's time zone is UTC), enum values cast to FLIP's types. A finished run's
#: last audit row is where the service writes it: ``RESULTS_UPLOADED`` in ``models_audit``,
#: ``STOPPED``/``ERROR`` in ``model_status_audit`` (FLIP's enum cannot hold them).
_FILL = [
    """
    CREATE TEMPORARY TABLE bench_run ON COMMIT DROP AS
    SELECT i, gen_random_uuid() AS id,
           CASE WHEN i <= :stale THEN 'stale' WHEN i <= :active THEN 'alive' ELSE 'done' END AS kind,
           CASE WHEN i <= :stale THEN now() - make_interval(hours => 3 + mod(i, 8)) - interval '1 day'
                WHEN i <= :active THEN now() - interval '1 minute' - interval '1 day'
                ELSE now() - make_interval(days => 2 + mod(i, 60)) - interval '1 day' END AS origin,
           CAST(CASE WHEN i > :active
                     THEN (ARRAY['RESULTS_UPLOADED', 'STOPPED', 'ERROR', 'PENDING'])[1 + mod(i, 4)]
                     ELSE (ARRAY['RUNNING', 'RUNNING', 'PREPARED', 'INITIATED'])[1 + mod(i, 4)] END
                AS modelstatus) AS status
    FROM generate_series(1, :models) AS i
    """,
    """
    INSERT INTO projects (id, name, description, owner_id, deleted, creation_timestamp, status, dicom_to_nifti)
    VALUES (:project, 'bench stale', 'bench stale', :owner, false, now() - interval '90 days', 'APPROVED', true)
    """,
    "INSERT INTO trust (id, name, code, created_at) VALUES (:trust, 'Bench stale trust', 'BST', now())",
    """
    INSERT INTO model (id, name, description, status, deleted, project_id, owner_id, creation_timestamp)
    SELECT id, 'stale bench ' || i, '', status, false, :project, :owner, origin - interval '1 hour'
    FROM bench_run
    """,
    """
    INSERT INTO fl_job (id, model_id, status, created, started, completed)
    SELECT gen_random_uuid(), id,
           CAST(CASE WHEN kind = 'done' THEN 'COMPLETED' ELSE 'IN_PROGRESS' END AS jobstatus),
           origin, origin + interval '1 minute',
           CASE WHEN kind = 'done' THEN origin + interval '1 day' END
    FROM bench_run
    UNION ALL
    SELECT gen_random_uuid(), id, CAST('COMPLETED' AS jobstatus), origin - interval '7 days',
           origin - interval '7 days', origin - interval '6 days'
    FROM bench_run WHERE mod(i, 4) = 0
    """,
    """
    INSERT INTO fl_nets (id, name, endpoint, fl_backend)
    SELECT gen_random_uuid(), 'stale-bench-' || i, 'http://stale-bench-' || i, CAST('NVFLARE' AS flbackend)
    FROM bench_run WHERE kind <> 'done'
    """,
    """
    INSERT INTO fl_scheduler (id, net_id, status, job_id)
    SELECT gen_random_uuid(), n.id, CAST('BUSY' AS netstatus), j.id
    FROM bench_run AS r
    JOIN fl_nets AS n ON n.name = 'stale-bench-' || r.i
    JOIN fl_job AS j ON j.model_id = r.id AND j.status = 'IN_PROGRESS'
    """,
    """
    INSERT INTO models_audit (id, model_id, action, audit_date)
    SELECT gen_random_uuid(), id, CAST(a.action AS modelauditaction), origin + a.after
    FROM bench_run,
         (VALUES ('PREPARED', interval '2 minutes'), ('RUNNING', interval '5 minutes')) AS a(action, after)
    UNION ALL
    SELECT gen_random_uuid(), id, CAST('RESULTS_UPLOADED' AS modelauditaction), origin + interval '1 day'
    FROM bench_run WHERE status = 'RESULTS_UPLOADED'
    """,
    """
    INSERT INTO model_status_audit (id, model_id, action, audit_date)
    SELECT gen_random_uuid(), id, CAST(status AS text), origin + interval '1 day'
    FROM bench_run WHERE status IN ('STOPPED', 'ERROR')
    """,
    # Logs and metrics over the day of each run, the newest at its end (origin + 1 day).
    """
    INSERT INTO fl_logs (id, model_id, log_date, success, log)
    SELECT gen_random_uuid(), r.id, r.origin + interval '1 day' * (g::float / :logs_per_model), true,
           'bench line ' || g
    FROM bench_run AS r, generate_series(1, :logs_per_model) AS g
    """,
    """
    INSERT INTO fl_metrics (id, model_id, trust, fl_client_name, global_round, label, result, x_label,
                            x_value, timestamp)
    SELECT gen_random_uuid(), r.id, :trust, 'Trust_1', g, 'LOSS_FUNCTION', random(), 'Global Round', g,
           r.origin + interval '1 day' * (g::float / :metrics_per_model)
    FROM bench_run AS r, generate_series(1, :metrics_per_model) AS g
    """,
]


def fill(engine: Engine, sizes: Sizes) -> None:
    """The section's data (see the module's docstring), then ``VACUUM ANALYZE``."""
    values = {
        "models": sizes.models,
        "active": sizes.active,
        "stale": sizes.stale,
        "logs_per_model": sizes.logs // sizes.models,
        "metrics_per_model": sizes.metrics // sizes.models,
        "project": uuid.uuid4(),
        "owner": uuid.uuid4(),
        "trust": uuid.uuid4(),
    }
    with engine.begin() as connection:
        for statement in _FILL:
            names = {key: value for key, value in values.items() if f":{key}" in statement}
            connection.execute(text(statement), names)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _explain(engine: Engine) -> dict[str, Any]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the candidate query, twice: the first run's times, buffers
    and indexes (right after ``VACUUM ANALYZE``: some pages still to read), then the warm run's plan."""
    compiled = stale_runs_query(MINUTES).compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}", parameters
        ).scalar_one()
        plan_text = [
            str(row[0])
            for row in connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", parameters)
        ]
    explained = (json.loads(found) if isinstance(found, str) else found)[0]
    plan = explained["Plan"]
    warm = [line for line in plan_text if line.startswith("Execution Time:")]
    return {
        "planning_ms": round(explained["Planning Time"], 3),
        "execution_ms": round(explained["Execution Time"], 3),
        "shared_hit_blocks": plan.get("Shared Hit Blocks", 0),
        "shared_read_blocks": plan.get("Shared Read Blocks", 0),
        "warm_execution_ms": float(warm[0].split()[2]) if warm else None,
        "indexes": sorted(set(_index_names(plan))),
        "seq_scans": sorted(set(_seq_scans(plan))),
        "plan": plan_text,
    }


def _nodes(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _index_names(plan: Mapping[str, Any]) -> Iterator[str]:
    return (node["Index Name"] for node in _nodes(plan) if "Index Name" in node)


def _seq_scans(plan: Mapping[str, Any]) -> Iterator[str]:
    return (node["Relation Name"] for node in _nodes(plan) if node.get("Node Type") == "Seq Scan")


def measure(sizes: Sizes, flip_schema: bool | None = None) -> dict[str, Any]:
    """Build the section's database (FLIP's, with ``flip_schema``: :func:`bench.dataset.bench_database`),
    measure, drop it."""
    with dataset.bench_database(flip_schema) as url:
        engine = dataset.engine(url)
        try:
            started = time.perf_counter()
            fill(engine, sizes)
            fill_seconds = time.perf_counter() - started
            return _measure(engine, sizes, fill_seconds)
        finally:
            engine.dispose()


def _measure(engine: Engine, sizes: Sizes, fill_seconds: float) -> dict[str, Any]:
    factory = sessionmaker(bind=engine)
    explained = _explain(engine)

    def query(_: int) -> None:
        with factory() as session:
            found = find_stale_runs(MINUTES, session)
        if len(found) != sizes.stale:
            raise RuntimeError(f"expected {sizes.stale} stale runs, found {len(found)}")

    timing = summary_ms(time_calls(query, sizes.repeat, warmup=2))
    started = time.perf_counter()
    sweep = fail_stale_runs(MINUTES, factory)
    sweep_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    again = fail_stale_runs(MINUTES, factory)
    again_ms = (time.perf_counter() - started) * 1000
    metrics.clear_metrics()  # counted for nobody: not an invocation
    if len(sweep.failed) != sizes.stale or again.failed:
        raise RuntimeError(f"the sweep failed {len(sweep.failed)} runs, the second {len(again.failed)}")
    return {
        "sizes": asdict(sizes),
        "fill_seconds": round(fill_seconds, 1),
        "explain": explained,
        "query": timing,
        "sweep": {
            "failed": len(sweep.failed),
            "ms": round(sweep_ms, 1),
            "ms_per_failed_run": round(sweep_ms / max(1, len(sweep.failed)), 2),
            "second_sweep_ms": round(again_ms, 2),
        },
        **goal(f"candidate query p50 < {QUERY_GOAL_MS:g} ms", timing["p50_ms"] < QUERY_GOAL_MS),
    }


def render(results: Mapping[str, Any]) -> list[str]:
    """The section's lines of the bench's table."""
    sizes, explained, query, sweep = results["sizes"], results["explain"], results["query"], results["sweep"]
    return [
        f"Stale-run sweep — {'met' if results['met'] else 'NOT met'} ({results['goal']})",
        f"  {sizes['models']} models ({sizes['active']} in flight, {sizes['stale']} stale), "
        f"{sizes['logs']:,} log rows, {sizes['metrics']:,} metric rows",
        f"  candidate query: p50 {query['p50_ms']:.2f} ms, p95 {query['p95_ms']:.2f} ms; EXPLAIN ANALYZE "
        f"{explained['execution_ms']:.2f} ms (+{explained['planning_ms']:.2f} ms planning; "
        f"{explained['shared_hit_blocks']} buffers hit, {explained['shared_read_blocks']} read), "
        f"warm {explained['warm_execution_ms']} ms",
        f"  indexes: {', '.join(explained['indexes'])}; seq scans: {', '.join(explained['seq_scans']) or 'none'}",
        f"  sweep: {sweep['failed']} runs failed in {sweep['ms']:.1f} ms ({sweep['ms_per_failed_run']:.2f} ms "
        f"each); a second sweep {sweep['second_sweep_ms']:.2f} ms, nothing to do",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stale_runs", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the --quick sizes")
    parser.add_argument("--plan", action="store_true", help="print the EXPLAIN (ANALYZE, BUFFERS) plan too")
    parser.add_argument("--out", help="write the section's results as JSON here")
    parser.add_argument(
        "--flip-schema",
        action="store_true",
        default=None,
        help="on FLIP's database (built from FLIP's DDL, then migrated); default: FLIP_BENCH_SCHEMA",
    )
    args = parser.parse_args(argv)
    logger.setLevel("ERROR")  # one line per failed run otherwise
    results = measure(QUICK if args.quick else FULL, args.flip_schema)
    print("\n".join(render(results)))
    if args.plan:
        print("\n".join(results["explain"]["plan"]))
    if args.out:
        with open(args.out, "w") as out:
            out.write(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
