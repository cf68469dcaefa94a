"""Connecting to MongoDB: the configured URI, or the embedded server."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from convostore import __version__
from convostore.config import Settings, redact_uri
from convostore.embedded import EmbeddedServer
from convostore.migrations.run import migrate_at_startup
from convostore.models import DOCUMENT_MODELS

logger = logging.getLogger(__name__)


def make_client(uri: str, settings: Settings) -> AsyncMongoClient:
    return AsyncMongoClient(
        uri,
        # Datetimes come back aware (UTC), the same values that were written.
        tz_aware=True,
        # Fail fast with a 503 instead of hanging for the driver's 30 s default.
        serverSelectionTimeoutMS=settings.database_timeout_ms,
        connectTimeoutMS=settings.database_timeout_ms,
        appname=f"convostore/{__version__}",
    )


async def init_models(database: AsyncDatabase) -> None:
    """Bind the document models to `database`. Indexes are left to the migrations."""
    await init_beanie(database=database, document_models=DOCUMENT_MODELS, skip_indexes=True)


@dataclass
class Connection:
    client: AsyncMongoClient
    database: AsyncDatabase
    uri: str
    embedded: EmbeddedServer | None
    manages_schema: bool


def start_embedded(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(settings.data_dir, settings.embedded_port).start()


@asynccontextmanager
async def connect(
    settings: Settings, *, manage_schema: bool | None = None
) -> AsyncIterator[Connection]:
    """Connect to the configured database, starting the embedded one when none is configured.

    An embedded server this call starts is stopped when the context ends; one that was
    already running (under `convostore serve`, say) is left running. With `manage_schema`
    (the default for the embedded database) missing indexes and validators are applied at
    once; on a configured MongoDB they are left to `convostore migrate`.
    """
    if manage_schema is None:
        manage_schema = settings.mongodb_uri is None
    embedded = None
    if settings.mongodb_uri is not None:
        uri = settings.mongodb_uri.get_secret_value()
    else:
        embedded = start_embedded(settings)
        uri = embedded.uri

    logger.info("connecting to %s, database %s", redact_uri(uri), settings.database)
    client = make_client(uri, settings)
    try:
        database = client[settings.database]
        await init_models(database)
        if manage_schema:
            await migrate_at_startup(database)
        yield Connection(client, database, uri, embedded, manage_schema)
    finally:
        await client.close()
        if embedded is not None:
            embedded.stop()
