"""Fuzzing: schemathesis sends generated requests to every operation of the running API.

No answer may be a 5xx, and every answer must match what /openapi.json documents (status
code, content type, body schema). The run is bounded to stay within the suite's minutes:
CONVOSTORE_FUZZ_EXAMPLES (cases per operation, default 8) and CONVOSTORE_FUZZ_SEED make a
longer or a different run.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from pymongo import MongoClient

from convostore.auth import issue_token
from tests.conftest import JWT_SECRET

EXAMPLES = os.environ.get("CONVOSTORE_FUZZ_EXAMPLES", "8")
SEED = os.environ.get("CONVOSTORE_FUZZ_SEED", "20261203")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance," \
         "response_schema_conformance"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "convostore", *args], env=env, check=True,
                            capture_output=True, text=True, timeout=120)
    return result.stdout.strip()


def test_every_operation_answers_as_documented(mongodb_uri, tmp_path):
    database = f"fuzz_{uuid.uuid4().hex[:12]}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOSTORE_")}
    env.update({"CONVOSTORE_MONGODB_URI": mongodb_uri, "CONVOSTORE_DATABASE": database,
                "CONVOSTORE_JWT_SECRET": JWT_SECRET, "CONVOSTORE_DATA_DIR": str(tmp_path)})
    _cli(env, "migrate")
    admin_id = _cli(env, "users", "create", "--email", "fuzz@example.com")
    token = issue_token(JWT_SECRET, admin_id, admin=True)

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "convostore", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)

        schemathesis = Path(sys.executable).parent / "schemathesis"
        result = subprocess.run(
            [str(schemathesis), "run", f"{base_url}/openapi.json",
             "--header", f"Authorization: Bearer {token}",
             "--max-examples", EXAMPLES, "--seed", SEED, "--checks", CHECKS,
             "--no-color"],
            capture_output=True, text=True, timeout=600, env={**env, "NO_COLOR": "1"},
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert " passed" in result.stdout
    finally:
        server.terminate()
        server.wait(30)
        with MongoClient(mongodb_uri) as client:
            client.drop_database(database)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
