"""Migration Lambda: applies the Alembic migrations shipped in the shared layer (invoke after deploy)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.observability import logger
from flip_models.store.migrate import upgrade_database


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    revision = upgrade_database()
    logger.info("database migrated", extra={"revision": revision})
    return {"revision": revision}
