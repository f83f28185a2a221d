"""The deploy tests use the LocalStack of the integration tests (started by scripts/test.sh, or by the
fixture when nothing answers)."""

from tests.integration.conftest import localstack_endpoint

__all__ = ["localstack_endpoint"]
