"""Migration Lambda: applies the Alembic migrations shipped in the shared layer (invoke after deploy);
``{"check": true}`` only reports (SPEC §2): FLIP's revision, every missing or incompatible FLIP
column the service uses, and what a migration would create. Invoke it before every deploy and after
every FLIP upgrade."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.observability import logger
from flip_models.store.migrate import check_database, upgrade_database


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("check") is True:
        report = check_database()
        logger.info("database checked", extra=report.as_dict())
        return report.as_dict()
    revision = upgrade_database()
    logger.info("database migrated", extra={"revision": revision})
    return {"revision": revision}
