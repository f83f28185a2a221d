"""LocalStack for the queue-behaviour tests: started by scripts/test.sh, or here when it is not running.

``LOCALSTACK_ENDPOINT`` names the gateway (default ``http://127.0.0.1:4566``). When nothing answers
there, the session starts LocalStack through ``scripts/localstack.sh`` (and stops it at the end);
if that fails the tests fail, they are never skipped.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from tests.integration.template_queues import REGION, FLQueuePair, create_queue_pair, queue_definitions
from tests.lambda_support import ROOT

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

#: Visibility timeout of the test queues, shortened from the template's (the only attribute changed).
VISIBILITY_TIMEOUT = 2


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def localstack_endpoint() -> Iterator[str]:
    endpoint = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566").rstrip("/")
    started_here = False
    if not _healthy(endpoint):
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "localstack.sh"), "start"],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if result.returncode != 0 or not _healthy(endpoint):
            pytest.fail(f"LocalStack could not be started:\n{result.stdout}\n{result.stderr}")
        started_here = True
    yield endpoint
    if started_here:
        subprocess.run(["bash", str(ROOT / "scripts" / "localstack.sh"), "stop"], check=False, timeout=60)


@pytest.fixture(scope="session")
def sqs(localstack_endpoint: str) -> SQSClient:
    """The tests' own client of LocalStack's SQS (the handlers get theirs from the poller)."""
    return boto3.client("sqs", endpoint_url=localstack_endpoint, region_name=REGION)


@pytest.fixture
def fl_queues(sqs: SQSClient, localstack_endpoint: str) -> Iterator[Callable[[str], FLQueuePair]]:
    """``fl_queues("fl_logs")``: the function's queue and DLQ, fresh for this test, from the template."""
    prefix = f"it-{os.getpid()}-{secrets.token_hex(3)}"
    created: list[FLQueuePair] = []

    def create(function: str) -> FLQueuePair:
        pair = create_queue_pair(
            sqs, localstack_endpoint, queue_definitions()[function], prefix, VISIBILITY_TIMEOUT
        )
        created.append(pair)
        return pair

    yield create
    for pair in created:
        for url in (pair.queue.url, pair.dead_letter_queue.url):
            sqs.delete_queue(QueueUrl=url)
