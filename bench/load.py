"""The load test: many simulated Lambda containers against one PostgreSQL, directly and through PgBouncer.

Each container is a forked process with its own engine (one connection, as in Lambda) and the real
handlers (``functions/*/app.py``), fed API Gateway and SQS events as the local stack builds them
(:mod:`bench.lambdas`), API and FL mixed: the model page, its logs and its metrics, PATCH stops, and
batches of FL logs, metrics and statuses. A container handles its events one at a time, at most
``events`` of them or until ``seconds`` have passed, whichever comes first.

The database is a throwaway cluster started here (``initdb`` into a temporary directory, a free
loopback port, ``max_connections`` 100 as on a small RDS instance), migrated with the project's
Alembic migrations, reached by a login role without superuser rights (so the containers cannot
take the superuser's reserved slots, which the bench's own poller uses). Two modes:

* **direct**: every container connects to PostgreSQL itself;
* **pgbouncer**: through Debian's PgBouncer in transaction mode on a loopback port of its own (the
  stand-in for RDS Proxy), ``pool_size`` server connections, the containers with
  ``DB_BEHIND_POOLER=true`` (the FL batch statement goes unnamed). PgBouncer refuses startup
  parameters it does not know, so it ignores the session limits the engine sends in its startup
  packet (``statement_timeout``…); the bench sets the same limits on the role instead, which is
  where an operator puts them behind a pooler.

SQS is simulated: a message a handler reports in ``batchItemFailures`` is delivered again by the
container (after a short pause standing in for the visibility timeout) up to the template's
``maxReceiveCount`` (5), then counted as dead-lettered by the redrive policy; a message the handler
itself rejects goes to the function's dead-letter queue (recorded here, no AWS). Reconciliation:
every FL message sent is found exactly once (by its ``event_id``: the key the service records in
``fl_log_message``/``fl_metric_message`` with the id of the row it wrote to FLIP's ``fl_logs``/
``fl_metrics``, or in ``fl_status_message``), or was dead-lettered; an acknowledged message without
its key and row is *lost*, a key without its row is counted, and so is any row written to FLIP's
tables during the run without a key.

With ``flip_schema`` the containers' database is FLIP's: built from FLIP's DDL at its head (as the
containers' role) and then migrated, as an operator adopting the service would.

The bench's own thread polls ``pg_stat_activity`` for the server connections of the containers'
role (the peak is reported). ``python -m bench.load --containers 8 --events 10 --seconds 10`` runs
it alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from bench import dataset, lambdas
from bench.timing import goal
from flip_local.cluster import Cluster, pgbouncer, role_database, throwaway_cluster

#: The template's redrive policy (``maxReceiveCount``) of the three FL queues.
MAX_RECEIVE_COUNT = 5
#: Pause before a failed message is delivered again (the visibility timeout's stand-in).
REDELIVERY_PAUSE_SECONDS = 0.2
#: Messages per FL batch (logs and metrics; the status queue is FIFO, smaller batches).
FL_BATCH = 10
STATUS_BATCH = 2
#: The containers' login role (not a superuser) and database.
ROLE = "flip_load"
DATABASE = "flip_load"
#: One container's mix of events, cycled from an offset of its own so all kinds run at any time.
MIX = (
    "get_model",
    "fl_logs",
    "get_model_logs",
    "fl_metrics",
    "get_model_metrics",
    "fl_logs",
    "fl_status",
    "get_model",
    "fl_metrics",
    "stop",
)
API_KINDS = {"get_model", "get_model_logs", "get_model_metrics", "stop"}
#: Session limits set on the role (the engine's startup parameters do not pass PgBouncer).
ROLE_LIMITS = {"statement_timeout": "8s", "lock_timeout": "5s", "idle_in_transaction_session_timeout": "10s"}


@dataclass(frozen=True)
class Plan:
    """Sizes of one load run."""

    containers: int = 200
    events: int = 25  #: at most this many events per container…
    seconds: float = 60.0  #: …or until this long has passed
    max_connections: int = 100
    pool_size: int = 20  #: PgBouncer's server connections
    models: int = 8  #: models the containers share (reads and FL messages)
    stops_per_container: int = 2


FULL = Plan()
QUICK = Plan(containers=8, events=10, seconds=10.0, pool_size=4, models=2, stops_per_container=1)


def prepare_database(cluster: Cluster, flip_schema: bool = False) -> str:
    """The containers' role (the session limits set on it) and its migrated database; its URL. With
    ``flip_schema``, FLIP's database: FLIP's DDL applied as the role first, then migrated."""
    return role_database(cluster, ROLE, DATABASE, ROLE_LIMITS, dataset.flip_schema_sql(flip_schema))


# ---------------------------------------------------------------------------------------------
# The world the containers work on
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    models: tuple[dataset.BenchModel, ...]
    #: Per container, RUNNING models of the first model's project that its PATCH stops target.
    stop_targets: tuple[tuple[str, ...], ...]


def build_world(engine: Engine, plan: Plan, containers: int) -> World:
    """``plan.models`` RUNNING models (3 trusts each, some metrics and logs to read) and, per
    container, models of its own to stop."""
    models = []
    for index in range(plan.models):
        model = dataset.create_model(engine, trusts=3, slot_offset=1000 + 3 * index + _slot_base(engine))
        dataset.fill_metrics(engine, model, 600)
        dataset.fill_logs(engine, model, 300)
        models.append(model)
    targets = dataset.add_pending_models(engine, models[0], containers * plan.stops_per_container, "RUNNING")
    per = plan.stops_per_container
    return World(
        tuple(models),
        tuple(tuple(str(t) for t in targets[i * per : (i + 1) * per]) for i in range(containers)),
    )


def _slot_base(engine: Engine) -> int:
    """Slot numbers above those taken (a second world in the same database)."""
    with engine.connect() as connection:
        taken = connection.execute(text("SELECT coalesce(max(slot_number), 0) FROM fl_kit_slot")).scalar_one()
    return int(taken)


# ---------------------------------------------------------------------------------------------
# One simulated Lambda container
# ---------------------------------------------------------------------------------------------

_FUNCTIONS = (
    "get_model",
    "get_model_logs",
    "get_model_metrics",
    "update_model_status",
    "fl_logs",
    "fl_metrics",
    "fl_status",
)


@dataclass
class Invocation:
    kind: str
    started: float  #: seconds since the start signal
    ms: float
    outcome: str  #: API: the status code; FL: ``ok`` or ``retry`` (some batchItemFailures)


@dataclass
class ContainerReport:
    index: int
    invocations: list[Invocation] = field(default_factory=list)
    #: Every FL message sent: (queue, event_id, fate) with fate ``acked``, ``rejected`` (the
    #: handler's dead letter) or ``dead_lettered`` (retried ``MAX_RECEIVE_COUNT`` times).
    messages: list[tuple[str, str, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)


def _container(
    index: int,
    mode: str,
    environment: Mapping[str, str],
    plan: Plan,
    world: World,
    start: Any,
    out: Path,
) -> None:
    """One container's life: its environment, its engine on first use, then its events."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the handlers' logs and metrics (EMF) go to stdout, as in Lambda
    os.environ.update(environment)
    from flip_models.fl import batch
    from flip_models.store import db
    from flip_models.store.settings import get_settings

    # Forget anything cached before the fork (never dispose: the sockets would be the parent's).
    db.get_engine.cache_clear()
    db._get_sessionmaker.cache_clear()
    get_settings.cache_clear()
    rejected: set[str] = set()

    def dead_letter(letter: Any, queue_url: str | None) -> str:
        rejected.add(letter.message_id)
        return f"bench-dlq-{letter.message_id}"

    setattr(batch, "send_dead_letter", dead_letter)  # noqa: B010 (the DLQ, without AWS)
    handlers = {name: lambdas.load_handler(name) for name in _FUNCTIONS}
    report = ContainerReport(index)
    stops = list(world.stop_targets[index])
    model = world.models[index % len(world.models)]
    start.wait()
    began = time.monotonic()
    deadline = began + plan.seconds

    def call(kind: str, name: str, event: dict[str, Any]) -> Any:
        started = time.monotonic()
        try:
            response = handlers[name](event, lambdas.context())
        except Exception as error:  # a handler must never raise: counted, never hidden
            report.exceptions.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
            response = None
        elapsed = time.monotonic() - started
        if response is None:
            outcome = "exception"
        elif kind in API_KINDS:
            outcome = str(response.get("statusCode"))
        else:
            outcome = "retry" if response.get("batchItemFailures") else "ok"
        report.invocations.append(Invocation(kind, started - began, elapsed * 1000, outcome))
        return response

    def fl(name: str, bodies: Sequence[Mapping[str, Any]]) -> None:
        queue = lambdas.fl_queue(name.replace("_", "-") + (".fifo" if name == "fl_status" else ""))
        records = lambdas.sqs_event(bodies, queue)["Records"]
        ids = {record["messageId"]: body["event_id"] for record, body in zip(records, bodies, strict=True)}
        pending = records
        for receive in range(1, MAX_RECEIVE_COUNT + 1):
            for record in pending:
                record["attributes"]["ApproximateReceiveCount"] = str(receive)
            response = call(name, name, {"Records": pending})
            if response is None:
                failed = {record["messageId"] for record in pending}
            else:
                failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            for record in pending:
                if record["messageId"] not in failed:
                    fate = "rejected" if record["messageId"] in rejected else "acked"
                    report.messages.append((name, ids[record["messageId"]], fate))
            pending = [record for record in pending if record["messageId"] in failed]
            if not pending:
                return
            time.sleep(REDELIVERY_PAUSE_SECONDS)
        for record in pending:  # the redrive policy moves it to the dead-letter queue
            report.messages.append((name, ids[record["messageId"]], "dead_lettered"))

    owner = model.owner_id
    path = {"modelId": str(model.model_id)}
    for number in range(plan.events):
        if time.monotonic() >= deadline:
            break
        kind = MIX[(index + number) % len(MIX)]
        tag = f"{mode}-c{index}-e{number}"
        if kind == "stop" and not stops:
            kind = "get_model"
        if kind == "stop":
            target = {"modelId": stops.pop(), "status": "STOPPED"}
            stopper = world.models[0].owner_id  # the stop targets are in the first model's project
            call(kind, "update_model_status", lambdas.api_event("update_model_status", stopper, target))
        elif kind in API_KINDS:
            call(kind, kind, lambdas.api_event(kind, owner, path))
        elif kind == "fl_logs":
            fl(kind, _tagged(log_bodies(model, FL_BATCH), tag))
        elif kind == "fl_metrics":
            fl(kind, _tagged(metric_bodies(model, FL_BATCH), tag))
        else:
            bodies = [{"model_id": str(model.model_id), "status": "RUNNING"} for _ in range(STATUS_BATCH)]
            fl(kind, _tagged(bodies, tag))
    out.write_text(json.dumps(asdict(report)))


def log_bodies(model: dataset.BenchModel, count: int) -> list[dict[str, Any]]:
    from bench.ingestion import log_bodies as bodies

    return bodies(model, count, "x")


def metric_bodies(model: dataset.BenchModel, count: int) -> list[dict[str, Any]]:
    from bench.ingestion import metric_bodies as bodies

    return bodies(model, count, "x")


def _tagged(bodies: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """Each body with an ``event_id`` of its own (its key's ``message_id``: how it is reconciled)."""
    return [{**body, "event_id": f"{tag}-m{n}"} for n, body in enumerate(bodies)]


# ---------------------------------------------------------------------------------------------
# One mode: fork the containers, poll the server, reconcile
# ---------------------------------------------------------------------------------------------


class ConnectionPoller(threading.Thread):
    """Polls ``pg_stat_activity`` for the server connections of the containers' role."""

    def __init__(self, admin_url: str, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(admin_url, pool_size=1, max_overflow=0)
        self.interval = interval
        self.samples: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as connection:
            while not self.done.is_set():
                count = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE usename = :role"), {"role": ROLE}
                ).scalar_one()
                connection.rollback()
                self.samples.append(int(count))
                self.done.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self.done.set()
        self.join()
        self.engine.dispose()
        return {"peak": max(self.samples, default=0), "samples": len(self.samples)}


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _latency(invocations: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    ms = [i["ms"] for i in invocations]
    return {
        "count": len(ms),
        "p50_ms": round(_percentile(ms, 0.5), 1),
        "p99_ms": round(_percentile(ms, 0.99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else 0.0,
    }


#: Each FL queue's key table and, for logs and metrics, FLIP's table its keys' rows are in.
_KEYS = {
    "fl_logs": ("fl_log_message", "fl_logs"),
    "fl_metrics": ("fl_metric_message", "fl_metrics"),
    "fl_status": ("fl_status_message", None),
}


def keyless_rows(engine: Engine, world: World) -> int:
    """Rows of the world's models in FLIP's ``fl_logs`` and ``fl_metrics`` without an FL message key
    (the set-up's rows have none; every row a handler writes has one)."""
    models = [str(model.model_id) for model in world.models]
    with engine.connect() as connection:
        found = 0
        for key_table, table in (v for v in _KEYS.values() if v[1] is not None):
            found += int(
                connection.execute(
                    text(
                        f"SELECT count(*) FROM {table} AS r WHERE r.model_id = ANY(CAST(:m AS uuid[])) "
                        f"AND NOT EXISTS (SELECT FROM {key_table} AS k "
                        "WHERE k.model_id = r.model_id AND k.row_id = r.id)"
                    ),
                    {"m": models},
                ).scalar_one()
            )
    return found


def reconcile(
    engine: Engine, mode: str, messages: Sequence[tuple[str, str, str]], new_keyless_rows: int = 0
) -> dict[str, Any]:
    """Every message sent against the keys and rows: acknowledged → exactly one key, with its row;
    dead-lettered or rejected → counted as such (a key and row may exist for one whose commit was not
    acknowledged). ``new_keyless_rows``: rows the run wrote to FLIP's tables without a key."""
    rows: Counter[str] = Counter()
    keys_without_a_row = 0
    with engine.connect() as connection:
        for key_table, table in _KEYS.values():
            if table is None:
                sql = f"SELECT message_id, count(*), 0 FROM {key_table} WHERE message_id LIKE :p GROUP BY message_id"
            else:
                sql = (
                    f"SELECT k.message_id, count(r.id), count(*) - count(r.id) FROM {key_table} AS k "
                    f"LEFT JOIN {table} AS r ON r.id = k.row_id WHERE k.message_id LIKE :p GROUP BY k.message_id"
                )
            for key, count, missing in connection.execute(text(sql), {"p": f"{mode}-%"}):
                rows[key] += int(count)
                keys_without_a_row += int(missing)
    fates = Counter(fate for _, _, fate in messages)
    sent = {key for _, key, _ in messages}
    acked = [key for _, key, fate in messages if fate == "acked"]
    lost = [key for key in acked if rows.get(key, 0) == 0]
    duplicates = [key for key, count in rows.items() if count > 1]
    unexplained = [key for key in rows if key not in sent]
    return {
        "sent": len(messages),
        "acked_applied": len(acked) - len(lost),
        "rejected": fates["rejected"],
        "dead_lettered": fates["dead_lettered"],
        "lost": len(lost),
        "duplicates": len(duplicates),
        "rows_without_a_message": len(unexplained) + new_keyless_rows,
        "keys_without_a_row": keys_without_a_row,
        "lost_examples": lost[:5],
    }


def run_mode(
    mode: str,
    plan: Plan,
    world: World,
    url: str,
    admin_url: str,
    admin_engine: Engine,
    behind_pooler: bool,
    pool_size: int | None,
) -> dict[str, Any]:
    """Fork ``plan.containers`` containers on ``url``, start them together, wait, reconcile."""
    from flip_models.store import db

    db.reset_engine()  # nothing cached for the children to inherit
    for name in _FUNCTIONS:  # imported once here: every fork shares the modules (a warm image)
        lambdas.load_handler(name)
    environment = {
        "DATABASE_URL": url,
        "DB_BEHIND_POOLER": "true" if behind_pooler else "false",
        "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/000000000000/bench-dlq",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-2"),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    keyless_before = keyless_rows(admin_engine, world)
    context = multiprocessing.get_context("fork")
    start = context.Event()
    with tempfile.TemporaryDirectory(prefix=f"flip-load-{mode}-") as scratch:
        outs = [Path(scratch) / f"c{index}.json" for index in range(plan.containers)]
        processes = [
            context.Process(
                target=_container,
                args=(index, mode, environment, plan, world, start, outs[index]),
                daemon=True,
            )
            for index in range(plan.containers)
        ]
        for process in processes:
            process.start()
        time.sleep(0.5)  # every fork is at its start line
        poller = ConnectionPoller(admin_url)
        poller.start()
        began = time.monotonic()
        start.set()
        limit = began + plan.seconds + MAX_RECEIVE_COUNT * 30 + 60
        for process in processes:
            process.join(timeout=max(0.0, limit - time.monotonic()))
        wall = time.monotonic() - began
        stragglers = [process for process in processes if process.is_alive()]
        for process in stragglers:
            process.kill()
            process.join()
        connections = poller.stop()
        reports = [json.loads(out.read_text()) for out in outs if out.exists()]
    invocations = [i for report in reports for i in report["invocations"]]
    messages: list[tuple[str, str, str]] = [
        (queue, key, fate) for report in reports for queue, key, fate in report["messages"]
    ]
    exceptions = [e for report in reports for e in report["exceptions"]]
    api = [i for i in invocations if i["kind"] in API_KINDS]
    fl = [i for i in invocations if i["kind"] not in API_KINDS]
    api_outcomes = Counter(i["outcome"] for i in api)
    fl_outcomes = Counter(i["outcome"] for i in fl)
    retried_batches = fl_outcomes["retry"]
    new_keyless = keyless_rows(admin_engine, world) - keyless_before
    reconciliation = reconcile(admin_engine, mode, messages, new_keyless)
    refusals_503 = api_outcomes["503"]
    other_api_errors = {
        code: n for code, n in api_outcomes.items() if not code.startswith("2") and code != "503"
    }
    errors = refusals_503 + retried_batches + sum(other_api_errors.values()) + len(exceptions)
    # A container that died (or never reported) takes its messages out of the reconciliation: a run
    # with one is not met, whatever the counts of the others say.
    failed_containers = (
        plan.containers
        - len(reports)
        + sum(1 for process in processes if process.exitcode != 0 and process not in stragglers)
    )
    results: dict[str, Any] = {
        "containers": plan.containers,
        "containers_reported": len(reports),
        "containers_killed": len(stragglers),
        "containers_failed": failed_containers,
        "events_per_container_max": plan.events,
        "seconds_max": plan.seconds,
        "wall_seconds": round(wall, 2),
        "behind_pooler": behind_pooler,
        "pool_size": pool_size,
        "requests": len(api),
        "requests_per_s": round(len(api) / wall, 1),
        "fl_batches": len(fl),
        "messages_applied_per_s": round(reconciliation["acked_applied"] / wall, 1),
        "latency": {"all": _latency(invocations), "api": _latency(api), "fl": _latency(fl)},
        "errors": {
            "api_503": refusals_503,
            "api_other": other_api_errors,
            "fl_batches_with_retries": retried_batches,
            "handler_exceptions": len(exceptions),
            "exception_examples": exceptions[:3],
            "total": errors,
        },
        "api_statuses": dict(sorted(api_outcomes.items())),
        "server_connections": connections,
        "reconciliation": reconciliation,
    }
    whole = (
        not stragglers
        and not failed_containers
        and reconciliation["duplicates"] == 0
        and reconciliation["keys_without_a_row"] == 0
        and reconciliation["rows_without_a_message"] == 0
    )
    if behind_pooler:
        met = (
            whole and errors == 0 and connections["peak"] <= (pool_size or 0) and reconciliation["lost"] == 0
        )
        results.update(goal("0 errors, server connections ≤ the pool size, 0 lost", met))
    else:
        met = whole and reconciliation["lost"] == 0 and not other_api_errors and not exceptions
        results.update(goal("0 lost, every refusal a 503 or a retry", met))
    return results


def measure(plan: Plan, flip_schema: bool | None = None) -> dict[str, Any]:
    """Both modes against one throwaway cluster: direct, then through PgBouncer; on FLIP's database
    with ``flip_schema`` (default: ``FLIP_BENCH_SCHEMA``)."""
    flip = dataset.use_flip_schema(flip_schema)
    with throwaway_cluster(plan.max_connections) as cluster:
        url = prepare_database(cluster, flip)
        admin_url = cluster.url(database=DATABASE)
        admin = dataset.engine(admin_url)
        try:
            world = build_world(admin, plan, plan.containers)
            print(f"bench: load, {plan.containers} containers, direct…", file=sys.stderr)
            direct = run_mode("direct", plan, world, url, admin_url, admin, False, None)
            world = build_world(admin, plan, plan.containers)
            print(f"bench: load, {plan.containers} containers, through PgBouncer…", file=sys.stderr)
            with pgbouncer(cluster, plan.pool_size, [ROLE], tuple(ROLE_LIMITS)) as port:
                pooled_url = cluster.url(ROLE, DATABASE, port)
                pooled = run_mode(
                    "pgbouncer", plan, world, pooled_url, admin_url, admin, True, plan.pool_size
                )
            with admin.connect() as connection:
                max_connections = int(connection.execute(text("SHOW max_connections")).scalar_one())
        finally:
            admin.dispose()
    return {
        "max_connections": max_connections,
        "schema": dataset.schema_name(flip),
        "plan": asdict(plan),
        "direct": direct,
        "pgbouncer": pooled,
        **goal("both modes meet their goals", direct["met"] and pooled["met"]),
    }


def render(load: Mapping[str, Any]) -> list[str]:
    plan = load["plan"]
    lines = [
        f"Load: {plan['containers']} containers × ≤ {plan['events']} events (≤ {plan['seconds']:g} s), "
        f"max_connections {load['max_connections']}, {load.get('schema', 'service')} database "
        f"— {'met' if load['met'] else 'NOT met'}",
        f"  {'mode':<10}{'req/s':>8}{'msg/s':>8}{'p50 ms':>8}{'p99 ms':>9}{'503':>6}{'retry':>7}"
        f"{'other':>7}{'peak conn':>11}{'lost':>6}{'DLQ':>6}  goal",
    ]
    for mode in ("direct", "pgbouncer"):
        r = load[mode]
        e = r["errors"]
        lines.append(
            f"  {mode:<10}{r['requests_per_s']:>8.1f}{r['messages_applied_per_s']:>8.1f}"
            f"{r['latency']['all']['p50_ms']:>8.1f}{r['latency']['all']['p99_ms']:>9.1f}"
            f"{e['api_503']:>6}{e['fl_batches_with_retries']:>7}"
            f"{sum(e['api_other'].values()) + e['handler_exceptions']:>7}"
            f"{r['server_connections']['peak']:>11}{r['reconciliation']['lost']:>6}"
            f"{r['reconciliation']['dead_lettered']:>6}  {'met' if r['met'] else 'NOT met'}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--containers", type=int, default=FULL.containers)
    parser.add_argument("--events", type=int, default=FULL.events)
    parser.add_argument("--seconds", type=float, default=FULL.seconds)
    parser.add_argument("--pool-size", type=int, default=FULL.pool_size)
    parser.add_argument("--models", type=int, default=FULL.models)
    parser.add_argument(
        "--flip-schema",
        action="store_true",
        default=None,
        help="on FLIP's database (built from FLIP's DDL, then migrated); default: FLIP_BENCH_SCHEMA",
    )
    args = parser.parse_args(argv)
    plan = Plan(
        containers=args.containers,
        events=args.events,
        seconds=args.seconds,
        pool_size=args.pool_size,
        models=args.models,
    )
    results = measure(plan, args.flip_schema)
    print(json.dumps(results, indent=2))
    print("\n".join(render(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
