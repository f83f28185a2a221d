"""``flip-models``: the developer and operator commands (migrate, demo data, local stack, send, bench).

A dev tool installed by ``pip install -e .``; it is not part of the Lambda layer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flip_local import schedule
from flip_models.errors import FlipError

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine() -> Engine:
    from flip_models.store.db import build_engine
    from flip_models.store.settings import get_settings

    return build_engine(get_settings())


def _migrate(args: argparse.Namespace) -> int:
    from flip_models.store import migrate

    engine = _engine()
    if args.check:
        report = migrate.check(engine)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    if args.remove:
        migrate.remove(engine)
        print("the service's objects are removed (FLIP's schema stays, unless the service created it)")
        return 0
    revision = migrate.upgrade(engine)
    print(f"database at revision {revision}")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import sessionmaker

    from flip_local.demo import seed_demo
    from flip_models.store.db import session_scope

    with session_scope(sessionmaker(bind=_engine())) as session:
        summary = seed_demo(session)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(summary.describe())
    return 0


def _flip_api_url(value: str) -> str:
    from flip_local.flip_api_proxy import validate_base_url

    try:
        return validate_base_url(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _dev(args: argparse.Namespace) -> int:
    from flip_local.stack import run

    code: int = run(
        http_port=args.port,
        sqs_port=args.sqs_port,
        seed=not args.no_seed,
        queue_prefix=args.queue_prefix,
        schedule_every=args.sweep_every,
        reset=args.reset,
        warm=args.warm,
        flip_api_url=args.flip_api_url,
        ingress_port=args.ingress_port,
    )
    return code


def _send(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flip_local.stack import send

    code: int = send(Path(args.events_file), args.queue)
    return code


def _fl_env(args: argparse.Namespace) -> int:
    from flip_local.stack import fl_server_environment, flip_fl_server_environment, running_state

    state = running_state()
    if state is None:
        return 2
    print(flip_fl_server_environment(state).replace("  export", "export"))
    if not args.http_only:
        print(fl_server_environment(state).replace("  export", "export"))
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from flip_local.dead_letters import main as dead_letters

    code: int = dead_letters(args.queue, args.redrive)
    return code


def _bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.run import DEFAULT_OUT, run_load
    from bench.run import run as run_bench

    out = Path(args.out) if args.out else DEFAULT_OUT
    if args.load:
        run_load(quick=args.quick, out=out, flip_schema=args.flip_schema)
    else:
        run_bench(quick=args.quick, out=out, flip_schema=args.flip_schema)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flip-models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="apply the database migrations to DATABASE_URL")
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="change nothing: FLIP's revision, each missing FLIP column, what a migration would create",
    )
    mode.add_argument(
        "--remove",
        action="store_true",
        help="remove every object of the service (a downgrade to nothing); FLIP's schema stays",
    )
    migrate.set_defaults(run=_migrate)
    seed = commands.add_parser("seed-demo", help="insert the demo data (idempotent)")
    seed.add_argument("--json", action="store_true", help="print the demo ids as JSON")
    seed.set_defaults(run=_seed_demo)
    dev = commands.add_parser("dev", help="run the local stack (API on :3000, SQS pollers, demo data)")
    dev.add_argument("--port", type=int, default=3000, help="HTTP port of the local API (default 3000)")
    dev.add_argument(
        "--ingress-port",
        type=int,
        default=3001,
        help="HTTP port of the FL ingress, FLIP's internal routes (default 3001; key: INTERNAL_SERVICE_KEY)",
    )
    dev.add_argument("--sqs-port", type=int, default=9324, help="port of moto's SQS server (default 9324)")
    dev.add_argument("--no-seed", action="store_true", help="do not insert the demo data")
    dev.add_argument(
        "--reset",
        action="store_true",
        help="start from fresh demo data: remove the tables first (only a database the service created)",
    )
    dev.add_argument(
        "--warm",
        action="store_true",
        help="start every function's worker up front (no 2-8 s wait on a function's first request)",
    )
    dev.add_argument("--queue-prefix", default="", help="prefix of the queue names (share one LocalStack)")
    dev.add_argument(
        "--sweep-every",
        type=float,
        default=schedule.EVERY_SECONDS,
        metavar="SECONDS",
        help="run the scheduled functions (the stale-run sweep) every SECONDS (default 30; 0: never)",
    )
    dev.add_argument(
        "--flip-api-url",
        type=_flip_api_url,
        metavar="URL",
        help="pass every route that is not the model service's to this flip-api (the template's "
        "FlipApiUrl), so a web app needs one base URL; without it such a route is a 404",
    )
    dev.set_defaults(run=_dev)
    send = commands.add_parser("send", help="send the messages of an SQS sample event to the local queues")
    send.add_argument("events_file", help="a Lambda SQS event, e.g. events/fl_metrics.json")
    send.add_argument("--queue", help="logical id of the queue (default: the one of the function)")
    send.set_defaults(run=_send)
    fl_env = commands.add_parser(
        "fl-env",
        help='the running stack\'s FL server settings as shell exports (eval "$(flip-models fl-env)")',
    )
    fl_env.add_argument(
        "--http-only",
        action="store_true",
        help="only FLIP's own variables: FLIP_API_INTERNAL_URL and INTERNAL_SERVICE_KEY (the FL ingress)",
    )
    fl_env.set_defaults(run=_fl_env)
    dlq = commands.add_parser("dlq", help="list the local stack's dead letters with their reasons")
    dlq.add_argument("queue", nargs="?", help="logs, metrics or status (or a queue name); default: all")
    dlq.add_argument("--redrive", action="store_true", help="move the dead letters back to their queue")
    dlq.set_defaults(run=_dlq)
    bench = commands.add_parser("bench", help="benchmarks against floors measured in the same run")
    bench.add_argument("--quick", action="store_true", help="a small run (tiny data, no 1M-row step)")
    bench.add_argument(
        "--load",
        action="store_true",
        help="only the load test (200 containers, direct and through PgBouncer; --quick: 8), "
        "its figures replacing the load section of the results",
    )
    bench.add_argument("--out", help="where to write the JSON results (default bench/results.json)")
    bench.add_argument(
        "--flip-schema",
        action="store_true",
        default=None,
        help="on FLIP's database: built from FLIP's DDL at its head, then migrated "
        "(default: FLIP_BENCH_SCHEMA, else the service's)",
    )
    bench.set_defaults(run=_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except FlipError as error:
        print(f"flip-models {args.command}: {error.message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
