"""The FL ingress (SPEC §10) against its floor: ``SendMessage`` to the same LocalStack queue, same run.

The ingress function is called in-process, as Lambda would call it, with the REST proxy event of
FLIP's FL server's metric (``POST /api/model/{id}/metrics``, a fresh body each time: key checked,
body validated, model and client checked — from the cache after the first —, then ``SendMessage``).
The floor sends the same messages straight to the same ``fl-metrics`` queue in LocalStack. Both use
one SQS client (boto3's defaults: ten pooled connections), as one Lambda container does, and are run
at 1 and 50 concurrent senders (threads), interleaved; requests per second over the whole level, and
each request's latency (p50, p99).

In-process threads share one interpreter: at 50 senders the ingress's Python work (hashing, pydantic)
competes for the GIL with the other senders' waits, where 50 Lambda containers would each have their
own CPU. The 50-sender ratio is therefore a lower bound of what a deployment sees.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import dataset, ingestion, lambdas
from bench.timing import goal
from flip_local.api_gateway import build_proxy_event
from flip_local.sqs import REGION
from flip_local.template import ApiRoute

SENDERS = (1, 50)
#: The goal: the ingress passes at least this share of what SendMessage alone passes.
RATIO_GOAL = 0.8
KEY = "bench-fl-server-key"
ROUTE = ApiRoute("POST", "/api/model/{modelId}/metrics", "FlIngressApi")


def localstack_endpoint() -> str:
    return os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566").rstrip("/")


def request_event(model: dataset.BenchModel, body: Mapping[str, Any]) -> dict[str, Any]:
    """The proxy event of FLIP's sender's metric (``requests.post(url, json=…, headers=…)``)."""
    headers = {
        "content-type": "application/json",
        "user-agent": "python-requests/2.32.4",
        "x-internal-service-key": KEY,
    }
    path = f"/api/model/{model.model_id}/metrics"
    fields = {key: value for key, value in body.items() if key not in ("model_id", "event_id")}
    return build_proxy_event(
        "POST",
        path,
        headers,
        json.dumps(fields).encode(),
        ROUTE,
        {"modelId": str(model.model_id)},
        None,
        "dev",
    )


@contextmanager
def ingress_queues(endpoint: str) -> Iterator[dict[str, str]]:
    """The three FL queues in LocalStack, this run's own, deleted afterwards; and the ingress's
    configuration pointing at them (environment variables, restored after)."""
    import boto3

    from flip_models.fl import dead_letters, ingress
    from flip_models.store.settings import get_settings

    client = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    prefix = f"bench-ingress-{secrets.token_hex(3)}"
    urls = {
        "FL_LOGS_QUEUE_URL": client.create_queue(QueueName=f"{prefix}-logs")["QueueUrl"],
        "FL_METRICS_QUEUE_URL": client.create_queue(QueueName=f"{prefix}-metrics")["QueueUrl"],
        "FL_STATUS_QUEUE_URL": client.create_queue(
            QueueName=f"{prefix}-status.fifo", Attributes={"FifoQueue": "true"}
        )["QueueUrl"],
    }
    variables = {
        **urls,
        "INTERNAL_SERVICE_KEY_HASH": hashlib.sha256(KEY.encode()).hexdigest(),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
    }
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    get_settings.cache_clear()
    dead_letters.reset_client()
    ingress.FOUND.clear()
    try:
        yield variables
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        dead_letters.reset_client()
        for url in urls.values():
            client.delete_queue(QueueUrl=url)


#: Each level is run in this many rounds, the floor's and the ingress's alternating, so that a
#: LocalStack shared with other work, or slowing down as its queue grows, weighs on both alike.
ROUNDS = 6


@dataclass
class _Side:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def run(self, work: Sequence[Callable[[], None]], senders: int) -> None:
        lock = threading.Lock()

        def timed(call: Callable[[], None]) -> None:
            started = time.perf_counter()
            call()
            took = time.perf_counter() - started
            with lock:
                self.latencies.append(took)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=senders) as pool:
            list(pool.map(timed, work))
        self.seconds += time.perf_counter() - started

    def figures(self) -> dict[str, float]:
        """Requests per second over the level's rounds, and each request's latency (p50, p99)."""
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "req_per_s": round(len(ordered) / self.seconds, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        }


def measure(model: dataset.BenchModel, requests: int) -> dict[str, Any]:
    """The ingress and its floor at each of :data:`SENDERS`, ``requests`` each, interleaved."""
    import boto3

    endpoint = localstack_endpoint()
    with ingress_queues(endpoint) as variables:
        handler = lambdas.load_handler("fl_ingress")
        client = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
        queue = variables["FL_METRICS_QUEUE_URL"]
        # One request first (the model and client then come from the ingress's cache, as in a warm container).
        warm = request_event(model, ingestion.metric_bodies(model, 1, "warm")[0])
        if handler(warm, lambdas.context())["statusCode"] != 204:
            raise RuntimeError("the FL ingress did not accept the bench's metric")
        results: dict[str, Any] = {}
        for senders in SENDERS:
            tag = f"ingress-{senders}-{secrets.token_hex(3)}"
            bodies = ingestion.metric_bodies(model, requests, tag)
            events = [request_event(model, body) for body in bodies]
            messages = [json.dumps(body, separators=(",", ":")) for body in bodies]

            def through_ingress(event: dict[str, Any]) -> Callable[[], None]:
                def call() -> None:
                    status = handler(event, lambdas.context())["statusCode"]
                    if status != 204:
                        raise RuntimeError(f"the FL ingress answered {status}")

                return call

            def straight(message: str) -> Callable[[], None]:
                return lambda: client.send_message(QueueUrl=queue, MessageBody=message) and None

            floor_side, ingress_side = _Side(), _Side()
            step = -(-requests // ROUNDS)
            for start in range(0, requests, step):
                chunk = slice(start, start + step)
                floor_side.run([straight(m) for m in messages[chunk]], senders)
                ingress_side.run([through_ingress(e) for e in events[chunk]], senders)
            floor, ingress = floor_side.figures(), ingress_side.figures()
            ratio = ingress["req_per_s"] / floor["req_per_s"]
            results[str(senders)] = {
                "ingress": ingress,
                "floor_send_message": floor,
                "ratio": round(ratio, 2),
                **goal(f"ingress ≥ {RATIO_GOAL:g} × SendMessage alone", ratio >= RATIO_GOAL),
            }
            client.purge_queue(QueueUrl=queue)
    return {
        "endpoint": "LocalStack",
        "requests_per_level": requests,
        "senders": results,
        **goal(
            f"ingress ≥ {RATIO_GOAL:g} × SendMessage alone at every level",
            all(level["met"] for level in results.values()),
        ),
    }


def render(figures: Mapping[str, Any]) -> list[str]:
    lines = [
        f"FL ingress (POST …/metrics in-process, {figures['requests_per_level']} requests a level) vs "
        f"SendMessage alone to the same {figures['endpoint']} queue — {'met' if figures['met'] else 'NOT met'}",
        f"  {'senders':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'floor req/s':>13}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'ratio':>7}  goal",
    ]
    for senders, level in figures["senders"].items():
        i, f = level["ingress"], level["floor_send_message"]
        lines.append(
            f"  {senders:>8}{i['req_per_s']:>9.1f}{i['p50_ms']:>9.2f}{i['p99_ms']:>9.2f}{f['req_per_s']:>13.1f}"
            f"{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{level['ratio']:>7.2f}  {'met' if level['met'] else 'NOT met'}"
        )
    return lines
