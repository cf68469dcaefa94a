"""The embedded server: data survives restarts, a second command attaches, a crash is healed."""

import os
import signal
import time

import pytest
from pymongo import MongoClient

from convostore.embedded import EmbeddedServer

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("CONVOSTORE_TEST_MONGODB_URI")),
    reason="tests the embedded server, which a run against a real mongod does not use",
)


def _count(uri: str) -> int:
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        return client.check.items.count_documents({})


def _insert(uri: str, n: int) -> None:
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        client.check.items.insert_many([{"n": i} for i in range(n)])


def test_data_survives_a_restart_on_the_recorded_port(tmp_path):
    server = EmbeddedServer(tmp_path).start()
    try:
        assert server.owned
        _insert(server.uri, 3)
        port = server.port
    finally:
        server.stop()

    again = EmbeddedServer(tmp_path).start()
    try:
        assert again.port == port
        assert _count(again.uri) == 3
    finally:
        again.stop()


def test_a_second_command_attaches_instead_of_starting_another(tmp_path):
    server = EmbeddedServer(tmp_path).start()
    try:
        attached = EmbeddedServer(tmp_path).start()
        assert not attached.owned and attached.port == server.port
        attached.stop()
        _insert(server.uri, 1)  # still running: only its owner stops it
        assert _count(server.uri) == 1
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_supervisor_restarts_a_killed_server_without_losing_acknowledged_writes(tmp_path):
    server = EmbeddedServer(tmp_path).start()
    server.supervise(interval=0.1)
    try:
        _insert(server.uri, 50)
        first_pid = server.process.pid
        os.kill(first_pid, signal.SIGKILL)

        deadline = time.monotonic() + 30
        while server.process.pid == first_pid or server.process.poll() is not None:
            assert time.monotonic() < deadline, "the server was not restarted"
            time.sleep(0.1)
        assert _count(server.uri) == 50
    finally:
        server.stop()
