"""Test harness: a real MongoDB wire-protocol server, a fresh database for every test.

By default a SecantusDB server is started once per session on a free port in a temporary
directory (through convostore's own `EmbeddedServer`). Set CONVOSTORE_TEST_MONGODB_URI to run
the same suite against a real mongod instead.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pymongo.asynchronous.database import AsyncDatabase

from convostore.api.app import create_app
from convostore.auth import issue_token
from convostore.config import Settings
from convostore.database import init_models, make_client
from convostore.embedded import EmbeddedServer
from convostore.migrations.run import migrate
from convostore.models import User

JWT_SECRET = "test-secret-long-enough-for-hs256-and-hs512-" + "0123456789abcdef" * 2


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("CONVOSTORE_TEST_MONGODB_URI")
    if configured:
        yield configured
        return
    server = EmbeddedServer(tmp_path_factory.mktemp("embedded-db")).start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture
def settings(mongodb_uri: str, tmp_path) -> Settings:
    return Settings(
        _env_file=None,
        mongodb_uri=mongodb_uri,
        database=f"test_{uuid.uuid4().hex[:16]}",
        data_dir=tmp_path / "data",
        jwt_secret=JWT_SECRET,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncDatabase]:
    """The models bound to this test's own database, dropped afterwards."""
    client = make_client(settings.mongodb_uri.get_secret_value(), settings)
    database = client[settings.database]
    await init_models(database)
    await migrate(database)
    try:
        yield database
    finally:
        await client.drop_database(settings.database)
        await client.close()


@pytest.fixture
async def app(settings: Settings, db: AsyncDatabase) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://convostore.test") as http:
        yield http


@dataclass
class Caller:
    user: User
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.user.id)


async def make_caller(email: str, *, admin: bool = False) -> Caller:
    user = User(email=email, name=email.split("@")[0])
    await user.insert()
    token = issue_token(JWT_SECRET, user.id, admin=admin)
    return Caller(user, {"Authorization": f"Bearer {token}"})


@pytest.fixture
async def alice(app: FastAPI) -> Caller:
    return await make_caller("alice@example.com")


@pytest.fixture
async def bob(app: FastAPI) -> Caller:
    return await make_caller("bob@example.com")


@pytest.fixture
async def admin(app: FastAPI) -> Caller:
    return await make_caller("root@example.com", admin=True)
