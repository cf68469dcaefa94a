"""Everything a deployment needs to match the models, in one call; and what still differs."""

import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from convostore.migrations.indexes import DuplicateKeys, apply_index_plan, plan_indexes
from convostore.migrations.validators import apply_validators, plan_validators

logger = logging.getLogger(__name__)


async def migrate(database: AsyncDatabase, *, drop_extra: bool = False) -> list[str]:
    """Apply the declared indexes, then the validators; returns what was done."""
    done = await apply_index_plan(database, await plan_indexes(database), drop_extra=drop_extra)
    return done + await apply_validators(database)


async def migrate_at_startup(database: AsyncDatabase) -> None:
    """What the service does by itself on a database it manages (the embedded one)."""
    try:
        done = await migrate(database)
        # Each change was logged as it was made; this only closes the step.
        if done:
            logger.info("start-up migration: %d changes", len(done))
    except DuplicateKeys as error:
        logger.warning(
            "unique indexes were not built, existing documents hold duplicates: %s; "
            "see `convostore indexes plan`", error.duplicates[:5],
        )


async def drift(database: AsyncDatabase) -> dict[str, Any]:
    """How the database differs from the models: empty when it is in step."""
    indexes = [plan.describe() for plan in await plan_indexes(database) if not plan.in_sync]
    validators = await plan_validators(database)
    found: dict[str, Any] = {}
    if indexes:
        found["indexes"] = indexes
    if validators:
        found["validators"] = validators
    return found
