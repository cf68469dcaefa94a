"""A database that goes away: 503s in the error shape, quickly, and recovery without restart."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from convostore.api.app import create_app
from convostore.config import Settings
from convostore.embedded import EmbeddedServer
from tests.conftest import JWT_SECRET, make_caller
from tests.helpers import check, check_error

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("CONVOSTORE_TEST_MONGODB_URI")),
    reason="stops and starts a database server of its own",
)


async def test_requests_get_503_fast_while_the_database_is_down_and_recover(tmp_path):
    server = EmbeddedServer(tmp_path / "db").start()
    settings = Settings(_env_file=None, mongodb_uri=server.uri, database="faults",
                        data_dir=tmp_path / "data", jwt_secret=JWT_SECRET,
                        database_timeout_ms=2000)
    app = create_app(settings, manage_schema=True)
    try:
        async with LifespanManager(app), AsyncClient(
            transport=ASGITransport(app=app), base_url="http://convostore.test"
        ) as client:
            alice = await make_caller("alice@example.com")
            check(await client.post("/v1/tasks", json={"title": "before"},
                                    headers=alice.headers), 201)

            server.stop()
            started = time.monotonic()
            response = await client.get("/v1/tasks", headers=alice.headers)
            assert time.monotonic() - started < 5
            check_error(response, 503, "database_unavailable")
            check_error(await client.post("/v1/tasks", json={"title": "lost?"},
                                          headers=alice.headers), 503)
            check_error(await client.get("/readyz"), 503, "database_unavailable")

            server.start()  # same data directory, same port
            assert check(await client.get("/readyz"), 200)["status"] == "ready"
            titles = [t["title"] for t in check(
                await client.get("/v1/tasks", headers=alice.headers), 200)["data"]]
            assert titles == ["before"]
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_serve_restarts_a_killed_embedded_database_and_keeps_every_201(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOSTORE_")}
    env.update({"CONVOSTORE_DATA_DIR": str(tmp_path / "data"),
                "CONVOSTORE_JWT_SECRET": JWT_SECRET, "CONVOSTORE_DATABASE_TIMEOUT_MS": "200"})
    port = _free_port()
    api = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        # Popen only starts the process; the test then talks to it over HTTP.
        serve = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "convostore", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(base_url=api, timeout=10) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            user_id = (await asyncio.to_thread(subprocess.run, [
                sys.executable, "-m", "convostore", "users", "create", "--email", "k@x.io",
            ], env=env, capture_output=True, text=True, check=True)).stdout.strip()
            token = (await asyncio.to_thread(subprocess.run, [
                sys.executable, "-m", "convostore", "token", user_id,
            ], env=env, capture_output=True, text=True, check=True)).stdout.strip()
            headers = {"Authorization": f"Bearer {token}"}
            conversation = (await client.post("/v1/conversations", json={},
                                              headers=headers)).json()
            path = f"/v1/conversations/{conversation['id']}/messages"

            state = json.loads((tmp_path / "data" / "embedded.json").read_text())
            acknowledged, statuses = [], []
            for n in range(120):
                if n == 30:
                    os.kill(state["pid"], signal.SIGKILL)
                try:
                    response = await client.post(path, json={"role": "user", "content": f"m{n}"},
                                                 headers=headers)
                except httpx.TransportError:
                    statuses.append("transport")
                    continue
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                else:
                    assert response.status_code == 503, response.text
                    assert response.json()["error"]["code"] == "database_unavailable"
                await asyncio.sleep(0.02)

            assert 503 in statuses, statuses
            assert statuses[-1] == 201, statuses
            stored = []
            cursor = None
            while True:
                page = (await client.get(path, params={"limit": 100, **(
                    {"cursor": cursor} if cursor else {})}, headers=headers)).json()
                stored += [m["id"] for m in page["data"]]
                if not page["has_more"]:
                    break
                cursor = page["next_cursor"]
            assert set(acknowledged) <= set(stored)
    finally:
        serve.send_signal(signal.SIGTERM)
        await asyncio.to_thread(serve.wait, 60)
    output = log_path.read_text()
    assert "exited unexpectedly" in output and "restarting it" in output
