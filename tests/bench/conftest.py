"""Fixtures of the bench smoke tests: LocalStack, which the FL ingress's section sends to."""

from tests.integration.conftest import localstack_endpoint  # noqa: F401 (a shared fixture)
