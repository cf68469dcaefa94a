"""The command line, run as a newcomer runs it: a separate process, configured by environment."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import JWT_SECRET


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CONVOSTORE_")}
    env.update({
        "CONVOSTORE_MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "CONVOSTORE_DATABASE": settings.database,
        "CONVOSTORE_DATA_DIR": str(settings.data_dir),
        "CONVOSTORE_JWT_SECRET": JWT_SECRET,
    })
    yield env
    with MongoClient(env["CONVOSTORE_MONGODB_URI"]) as client:
        client.drop_database(settings.database)


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "convostore", *args], env=env,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_users_token_import_and_export(cli_env, tmp_path):
    # A configured MongoDB is migrated by the operator, not by the service.
    assert "set validator on users" in run(cli_env, "migrate").stdout
    assert run(cli_env, "indexes", "plan").returncode == 0

    user_id = run(cli_env, "users", "create", "--email", "Dana@Example.com").stdout.strip()
    assert len(user_id) == 24

    duplicate = run(cli_env, "users", "create", "--email", "dana@example.com", check=False)
    assert duplicate.returncode == 1 and "exists" in duplicate.stderr

    token = run(cli_env, "token", user_id, "--ttl", "60").stdout.strip()
    assert token.count(".") == 2
    assert run(cli_env, "token", "0" * 24, check=False).returncode == 1

    imported = run(cli_env, "import", "--user", user_id, "--chitchat", "--limit", "3")
    assert imported.stdout.startswith("imported 3 conversations,")

    out = tmp_path / "export.jsonl"
    run(cli_env, "export", "--user", user_id, "--out", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(json.loads(line)["messages"] for line in lines)

    reimported = run(cli_env, "import", "--user", user_id, str(out))
    assert reimported.stdout == imported.stdout


def test_indexes_plan_exits_1_on_a_fresh_database_and_lists_what_is_missing(cli_env):
    result = run(cli_env, "indexes", "plan", "--json", check=False)
    assert result.returncode == 1
    plans = {plan["collection"]: plan for plan in json.loads(result.stdout)}
    assert {spec["name"] for spec in plans["users"]["missing"]} >= {"email_unique"}


def test_schema_show_prints_every_collections_validator(cli_env):
    validators = json.loads(run(cli_env, "schema", "show").stdout)
    assert {"users", "tasks", "conversations", "messages"} <= set(validators)
    roles = validators["messages"]["$jsonSchema"]["properties"]["role"]
    assert roles["enum"] == ["user", "assistant", "system", "tool"]


def test_import_needs_exactly_one_source(cli_env):
    result = run(cli_env, "import", "--user", "0" * 24, check=False)
    assert result.returncode != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "convostore", "serve", "--port", str(port)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(process.stdout.read())


@pytest.mark.skipif(bool(os.environ.get("CONVOSTORE_TEST_MONGODB_URI")),
                    reason="serves the embedded database")
def test_serve_on_the_embedded_database_loses_nothing_across_restarts(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOSTORE_")}
    env["CONVOSTORE_DATA_DIR"] = str(tmp_path / "data")
    port = _free_port()

    server = _serve(env, port)
    try:
        # While serve runs, other commands attach to its database.
        user_id = run(env, "users", "create", "--email", "eve@example.com").stdout.strip()
        token = run(env, "token", user_id).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        api = f"http://127.0.0.1:{port}/v1"
        conversation = httpx.post(f"{api}/conversations", json={"title": "keep"},
                                  headers=headers).json()
        for n in range(5):
            response = httpx.post(f"{api}/conversations/{conversation['id']}/messages",
                                  json={"role": "user", "content": f"m{n}"}, headers=headers)
            assert response.status_code == 201
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "MongoDB:  mongodb://127.0.0.1:" in output and "embedded database stopped" in output

    server = _serve(env, port)
    try:
        listed = httpx.get(f"{api}/conversations/{conversation['id']}/messages",
                           headers=headers).json()
        assert [m["content"] for m in listed["data"]] == [f"m{n}" for n in range(5)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
