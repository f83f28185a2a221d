"""``flip-models dev``: the whole model service on one machine, without Docker (SPEC §7).

PostgreSQL (``DATABASE_URL`` or embedded), migrations and demo data; SQS (``AWS_ENDPOINT_URL`` →
LocalStack, else moto's server in-process) with the template's queues; an HTTP server serving every
``Api`` event of the template; a poller per SQS event source; each ``Schedule`` event fired every
``schedule_every`` seconds. State for ``flip-models send`` is
written to ``.local/stack.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flip_local.api_gateway import BoundRoute, make_server, route_precedence, swagger_pages
from flip_local.postgres import EmbeddedPostgres
from flip_local.runtime import FunctionWorker
from flip_local.schedule import EVERY_SECONDS, Schedule
from flip_local.sqs import REGION, LocalQueue, Poller, create_queues, sqs_client
from flip_local.template import ROOT, FunctionSpec, Template, load_template

STATE_DIR = ROOT / ".local"
STAGE = "local"
#: The variables an FL server's reporter (clients/python) reads its queue URLs from, by the folder
#: of the function that consumes the queue.
FL_QUEUE_VARIABLES = {
    "fl_logs": "FLIP_FL_LOGS_QUEUE_URL",
    "fl_metrics": "FLIP_FL_METRICS_QUEUE_URL",
    "fl_status": "FLIP_FL_STATUS_QUEUE_URL",
}
#: The REST API of FLIP's internal routes (the FL ingress, SPEC §10): served on a port of its own.
INGRESS_API = "FlIngressApi"
# The template's required parameters the functions' environment uses. Any local web app may call the
# local API (it listens on loopback only); a deployed stack names its one web app origin.
PARAMETERS = {"Stage": STAGE, "CorsAllowOrigin": "*"}


def state_file() -> Path:
    """Where a running stack tells ``flip-models send`` its queues (``FLIP_LOCAL_STATE`` overrides)."""
    return Path(os.environ.get("FLIP_LOCAL_STATE") or STATE_DIR / "stack.json")


def running_state() -> dict[str, Any] | None:
    """What the running stack wrote to :func:`state_file`, or None (with a hint) when none runs."""
    if not state_file().exists():
        print("no local stack is running (start it with: make run)", file=sys.stderr)
        return None
    state: dict[str, Any] = json.loads(state_file().read_text())
    return state


def fl_queue_urls(template: Template, queues: Mapping[str, LocalQueue]) -> dict[str, str]:
    """``FLIP_FL_*_QUEUE_URL`` → the local queue each FL consumer reads."""
    return {
        FL_QUEUE_VARIABLES[spec.code_uri.name]: queues[source.queue].url
        for spec in template.functions.values()
        if spec.code_uri.name in FL_QUEUE_VARIABLES
        for source in spec.sqs_sources
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


@dataclass
class DevStack:
    http_port: int = 3000
    #: The FL ingress (FLIP's internal routes): ``FLIP_API_INTERNAL_URL=http://127.0.0.1:<port>/api``.
    ingress_port: int = 3001
    #: The FL servers' ``X-Internal-Service-Key`` (FLIP's ``INTERNAL_SERVICE_KEY``); None: one is made.
    internal_service_key: str | None = None
    sqs_port: int = 9324
    database_url: str | None = None
    endpoint_url: str | None = None
    seed: bool = True
    reset: bool = False  # start from fresh demo data (a database the service created only)
    warm: bool = False  # start every function's worker up front, not on its first event
    queue_prefix: str = ""
    schedule_every: float = EVERY_SECONDS  # 0: scheduled functions never fire
    flip_api_url: str | None = None  # the template's FlipApiUrl: other routes go there
    log: Callable[[str], None] = log
    #: What :meth:`stop` stops, last started first: a component's name and its stop (which may
    #: return False: nothing was running, e.g. a function never invoked).
    _stops: list[tuple[str, Callable[[], bool | None]]] = field(default_factory=list)
    queues: dict[str, LocalQueue] = field(default_factory=dict)

    def start(self) -> dict[str, Any]:
        database_url = self._start_database()
        self._migrate_and_seed(database_url)
        endpoint = self._start_sqs()
        template = load_template(parameters=PARAMETERS)
        client = sqs_client(endpoint)
        self.queues = create_queues(client, template, name_prefix=self.queue_prefix)
        self.log(f"queues ready on {endpoint}: {', '.join(q.name for q in self.queues.values())}")
        workers = self._workers(template, database_url, endpoint)
        if self.warm:
            self._warm(workers)
        self._start_pollers(template, client, workers)
        self._start_schedules(template, workers)
        if self.internal_service_key is None:
            self.internal_service_key = secrets.token_urlsafe(32)
        routes = self._start_http(template, workers)
        state = {
            "api_url": f"http://127.0.0.1:{self.http_port}",
            "ingress_url": f"http://127.0.0.1:{self.ingress_port}",
            "internal_service_key": self.internal_service_key,
            "docs_url": f"http://127.0.0.1:{self.http_port}/docs",
            "sqs_endpoint": endpoint,
            "database_url": database_url,
            "queues": {
                q.logical_id: {"name": q.name, "url": q.url, "fifo": q.fifo} for q in self.queues.values()
            },
            "fl_queue_urls": fl_queue_urls(template, self.queues),
            "routes": routes,
            "flip_api_url": self.flip_api_url,
        }
        state_file().parent.mkdir(parents=True, exist_ok=True)
        state_file().write_text(json.dumps(state, indent=2))
        return state

    def _start_database(self) -> str:
        if self.database_url:
            return self.database_url
        embedded = EmbeddedPostgres(STATE_DIR / "pgdata")
        url = embedded.start()
        self._stops.append(("PostgreSQL (embedded)", embedded.stop))
        self.log(f"embedded PostgreSQL ready (data in {embedded.data_dir})")
        return url

    def _migrate_and_seed(self, database_url: str) -> None:
        from sqlalchemy.orm import sessionmaker

        from flip_local.demo import seed_demo
        from flip_models.store.db import build_engine, session_scope
        from flip_models.store.migrate import upgrade
        from flip_models.store.settings import Settings

        engine = build_engine(Settings(database_url=database_url))
        try:
            if self.reset:
                self._reset(engine)
            self.log(f"database at revision {upgrade(engine)}")
            if self.seed:
                with session_scope(sessionmaker(bind=engine)) as session:
                    self.log(seed_demo(session).describe())
        finally:
            engine.dispose()

    def _reset(self, engine: Any) -> None:
        """Remove the service's objects and the schema it created, so the demo starts afresh: only on
        a database the service created (the embedded one, an empty one it was pointed at), never on
        one holding FLIP's own schema."""
        from sqlalchemy import select

        from flip_models.store.migrate import current_revision, remove
        from flip_models.store.tables import ModelServiceInstall

        if current_revision(engine) is None:
            return
        with engine.connect() as connection:
            created = connection.scalar(select(ModelServiceInstall.flip_schema_created).limit(1))
        if not created:
            raise SystemExit(
                "--reset refused: this database holds FLIP's own schema (the service did not create it); "
                "reset only the embedded database or one the service created"
            )
        remove(engine)
        self.log("reset: every table removed; fresh schema and demo data follow")

    def _warm(self, workers: Mapping[str, FunctionWorker]) -> None:
        """Start every worker now (``--warm``): the first request then takes no process start and
        imports (2–8 s each otherwise, the first time a function runs)."""
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda worker: worker.warm(), workers.values()))
        self.log(f"warm: {len(workers)} function workers started in {time.perf_counter() - started:.1f} s")

    def _start_sqs(self) -> str:
        if self.endpoint_url:
            return self.endpoint_url
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per SQS call otherwise

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.sqs_port, verbose=False)
        server.start()
        self._stops.append(("SQS (moto)", server.stop))
        return f"http://127.0.0.1:{self.sqs_port}"

    def _workers(self, template: Template, database_url: str, endpoint: str) -> dict[str, FunctionWorker]:
        resources = {
            q.logical_id: {"Ref": q.url, "Arn": q.arn, "QueueName": q.name} for q in self.queues.values()
        }
        resolve = template.resolver(resources)
        base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TZ")}
        workers = {}
        for spec in template.functions.values():
            environment = {key: str(value) for key, value in resolve(dict(spec.environment)).items()}
            environment.pop("DB_SECRET_ARN", None)
            environment.pop("INTERNAL_SERVICE_KEY_SECRET_ARN", None)
            environment.update(self._local_environment(spec, database_url, endpoint))
            if any(route.api == INGRESS_API for route in spec.api_routes):
                if self.internal_service_key is None:
                    self.internal_service_key = secrets.token_urlsafe(32)
                # The hash, as FLIP's development setting INTERNAL_SERVICE_KEY_HASH holds it; never the key.
                environment["INTERNAL_SERVICE_KEY_HASH"] = hashlib.sha256(
                    self.internal_service_key.encode()
                ).hexdigest()
            workers[spec.logical_id] = FunctionWorker(
                spec.logical_id, spec.code_uri, spec.handler, {**base, **environment}, spec.timeout
            )
            self._stops.append((f"worker {spec.logical_id}", workers[spec.logical_id].stop))
        return workers

    @staticmethod
    def _local_environment(spec: FunctionSpec, database_url: str, endpoint: str) -> Mapping[str, str]:
        return {
            "DATABASE_URL": database_url,
            "DB_SSL": "false",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "eu-west-2",
            "AWS_REGION": "eu-west-2",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("FLIP_LOCAL_LOG_LEVEL", "WARNING"),
            "FLIP_LOCAL_READABLE_LOGS": "true",  # one readable line per log entry (flip_local.runtime)
            "PYTHONPATH": str(ROOT / "shared"),
        }

    def _start_pollers(self, template: Template, client: Any, workers: Mapping[str, FunctionWorker]) -> None:
        for spec in template.functions.values():
            for source in spec.sqs_sources:
                poller = Poller(
                    client, self.queues[source.queue], source.batch_size, workers[spec.logical_id], self.log
                )
                poller.start()
                self._stops.append((f"poller {source.queue}", poller.stop))

    def _start_schedules(self, template: Template, workers: Mapping[str, FunctionWorker]) -> None:
        for spec in template.functions.values():
            for source in spec.schedules:
                if self.schedule_every <= 0:
                    self.log(f"schedule off: {spec.logical_id} ({source.expression} in AWS) never fires")
                    continue
                schedule = Schedule(spec, source, workers[spec.logical_id], self.schedule_every, self.log)
                schedule.start()
                self._stops.append((f"schedule {spec.logical_id}", schedule.stop))
                self.log(
                    f"schedule: {spec.logical_id} every {self.schedule_every:g} s "
                    f"({source.expression} in AWS)"
                )

    def _start_http(self, template: Template, workers: Mapping[str, FunctionWorker]) -> list[str]:
        bound = [
            BoundRoute(route, route.pattern(), workers[spec.logical_id])
            for spec in template.functions.values()
            for route in spec.api_routes
        ]
        # Literal segments win over parameters, as in API Gateway (/models before /model/{id}).
        bound.sort(key=route_precedence)
        from flip_local.demo import DEMO_USERS

        users_api = [b for b in bound if b.route.api != INGRESS_API]
        ingress = [b for b in bound if b.route.api == INGRESS_API]
        servers = [
            (
                f"HTTP API :{self.http_port}",
                make_server(
                    "127.0.0.1",
                    self.http_port,
                    users_api,
                    DEMO_USERS,
                    STAGE,
                    {
                        "/_health": lambda: ("application/json", b'{"status":"ok"}'),
                        **swagger_pages(ROOT / "openapi.json"),
                    },
                    self.log,
                    flip_api_url=self.flip_api_url,
                ),
            ),
            # No dev identity: the function checks X-Internal-Service-Key itself, as in AWS.
            (
                f"FL ingress :{self.ingress_port}",
                make_server(
                    "127.0.0.1",
                    self.ingress_port,
                    ingress,
                    {},
                    STAGE,
                    {},
                    self.log,
                    identity=False,
                    label="ingress",
                ),
            ),
        ]
        for number, (name, server) in enumerate(servers):
            threading.Thread(target=server.serve_forever, name=f"http-{number}", daemon=True).start()
            self._stops.append((name, _stopper(server)))
        return [f"{b.route.method} {b.route.path}" for b in users_api]

    def stop(self) -> None:
        """Stop every component, last started first: one line each (a worker only if it ran)."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                if stop() is not False:
                    self.log(f"stopped {name}")
            except Exception as error:  # keep stopping the rest
                self.log(f"while stopping {name}: {error}")


def _stopper(server: Any) -> Callable[[], None]:
    """Stop an HTTP server: stop serving, then close its socket."""

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop


def run(
    http_port: int,
    sqs_port: int,
    seed: bool,
    queue_prefix: str = "",
    schedule_every: float = EVERY_SECONDS,
    reset: bool = False,
    warm: bool = False,
    ingress_port: int = 3001,
    flip_api_url: str | None = None,
) -> int:
    """Start the stack, print where everything is, serve until Ctrl-C or SIGTERM."""
    stack = DevStack(
        http_port=http_port,
        ingress_port=ingress_port,
        internal_service_key=os.environ.get("INTERNAL_SERVICE_KEY") or None,
        sqs_port=sqs_port,
        database_url=os.environ.get("DATABASE_URL") or None,
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        seed=seed,
        reset=reset,
        warm=warm,
        queue_prefix=queue_prefix,
        schedule_every=schedule_every,
        flip_api_url=flip_api_url,
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # SIGINT too: a background job may ignore it
        signal.signal(signum, lambda *_: stopping.set())
    try:
        state = stack.start()
        routes = len(state["routes"])
        log(f"API        {state['api_url']}  ({routes} routes; header X-Dev-User: <role or uuid>)")
        if flip_api_url:
            log(f"flip-api   {flip_api_url}  (every other route of {state['api_url']} goes there)")
        log(f"Swagger UI {state['docs_url']}")
        log(f"SQS        {state['sqs_endpoint']}  (send samples: flip-models send events/fl_metrics.json)")
        log("FL servers  report here (flip_fl_reporter in clients/python; dead letters: flip-models dlq)")
        print(fl_server_environment(state), flush=True)
        given = "from INTERNAL_SERVICE_KEY" if os.environ.get("INTERNAL_SERVICE_KEY") else "generated"
        log(f"FL ingress {state['ingress_url']}/api  (FLIP's internal routes; key {given})")
        print(flip_fl_server_environment(state), flush=True)
        log("ready — Ctrl-C to stop")
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        log("stopping")
        stack.stop()
        state_file().unlink(missing_ok=True)
    return 0


def fl_server_environment(state: Mapping[str, Any]) -> str:
    """Shell lines an FL server (or a terminal) can copy: the queue URLs and the local AWS settings."""
    lines = [f"  export {name}={url}" for name, url in sorted(state["fl_queue_urls"].items())]
    lines.append(f"  export AWS_DEFAULT_REGION={REGION} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test")
    return "\n".join(lines)


def flip_fl_server_environment(state: Mapping[str, Any]) -> str:
    """Shell lines for an unchanged FLIP FL server (flip-utils' FLIPStandardProd): the hub's internal
    URL and the key, as FLIP's own variables name them."""
    return "\n".join(
        [
            f"  export FLIP_API_INTERNAL_URL={state['ingress_url']}/api",
            f"  export INTERNAL_SERVICE_KEY={state['internal_service_key']}",
        ]
    )


def send(events_file: Path, queue_id: str | None) -> int:
    """Send the bodies of a Lambda SQS event file to the running stack's queue for that function."""
    from flip_local.sqs import send_bodies

    state = running_state()
    if state is None:
        return 2
    template = load_template(parameters=PARAMETERS)
    if queue_id is None:
        queue_id = _queue_for_events_file(template, events_file)
    entry = state["queues"][queue_id]
    queue = LocalQueue(queue_id, entry["name"], entry["url"], "", entry["fifo"])
    records = json.loads(events_file.read_text()).get("Records", [])
    sent = send_bodies(sqs_client(state["sqs_endpoint"]), queue, [record["body"] for record in records])
    print(f"sent {sent} message(s) to {queue.name}")
    return 0


def _queue_for_events_file(template: Template, events_file: Path) -> str:
    """``events/<folder>.json`` belongs to the function whose CodeUri is ``functions/<folder>/``."""
    for spec in template.functions.values():
        if spec.code_uri.name == events_file.stem and spec.sqs_sources:
            return spec.sqs_sources[0].queue
    raise SystemExit(f"no SQS function matches {events_file.name}; pass --queue <logical id>")
