"""Fixtures of the client's tests: moto's SQS server over real HTTP, fresh queues, a faulty front.

The client's tests need no part of the service: they run in the client's own Python 3.9
environment (``scripts/test_client.sh``) as well as in the project's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from support import REGION, FaultyFront, Queues, free_port, sqs_client


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials moto accepts, the queues' region, and never a real endpoint or profile."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's SQS server on a free port: real HTTP, real botocore, no AWS."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def queues(moto_endpoint: str) -> Queues:
    client = sqs_client(moto_endpoint)
    name = f"t{uuid.uuid4().hex[:10]}"
    logs = client.create_queue(QueueName=f"{name}-fl-logs")["QueueUrl"]
    metrics = client.create_queue(QueueName=f"{name}-fl-metrics")["QueueUrl"]
    status = client.create_queue(
        QueueName=f"{name}-fl-status.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    return Queues(client, logs, metrics, status)


@pytest.fixture
def front(moto_endpoint: str) -> Iterator[FaultyFront]:
    faulty = FaultyFront(upstream=moto_endpoint)
    faulty.start()
    yield faulty
    faulty.stop()
