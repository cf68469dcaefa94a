"""The embedded MongoDB-compatible server (SecantusDB), run as a separate process.

It is never imported: it runs as its own `secantusd-py` process on a loopback port, which
keeps its GPL licence at arm's length and keeps a crash of one process from taking down the
other. SecantusDB locks its data files, so a second convostore command attaches to the server
that is already running on a data directory instead of starting another one; the port and
pid are recorded in `<data_dir>/embedded.json` for that.
"""

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


class EmbeddedServerUnavailable(RuntimeError):
    """The embedded server cannot be started here."""


def _daemon_path() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    found = str(beside_python) if beside_python.exists() else shutil.which("secantusd-py")
    if found is None:
        raise EmbeddedServerUnavailable(
            "the embedded database is not installed: pip install 'convostore[embedded]', "
            "or set CONVOSTORE_MONGODB_URI to use another MongoDB server"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As a server binds: a port in TIME_WAIT after our own last run is free to reuse.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _answers_ping(uri: str, timeout_ms: int = 1000) -> bool:
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedServer:
    """One SecantusDB process serving one data directory.

    `owned` is true when this object started the process (and so stops it); false when it
    attached to a process another convostore command started.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, auth: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self.requested_port = port
        # Require SCRAM authentication (users must exist before it is turned on).
        self.auth = auth
        self.port: int | None = None
        self.owned = False
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def uri(self) -> str:
        if self.port is None:
            raise RuntimeError("the embedded server is not running")
        return f"mongodb://{HOST}:{self.port}/"

    @property
    def storage_path(self) -> Path:
        return self.data_dir / "db"

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "embedded.json"

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        # Two commands starting at once must not both launch a server on the same files.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "embedded.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_state(self) -> dict[str, int]:
        try:
            state = json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self, **state: int | None) -> None:
        self._state_file.write_text(json.dumps(state))

    def start(self) -> "EmbeddedServer":
        """Attach to the server running on this data directory, or start one."""
        with self._start_lock():
            state = self._read_state()
            pid, port = state.get("pid"), state.get("port")
            if pid and port and _pid_alive(pid) and _answers_ping(f"mongodb://{HOST}:{port}/"):
                # Known gap: if the starter is a short-lived command, the server stops when
                # it ends, under whoever attached to it meanwhile.
                self.port, self.owned = port, False
                logger.info("attached to the embedded database already running on port %s", port)
                return self

            self.port = self._choose_port(port)
            self._launch()
            self.owned = True
            return self

    def _choose_port(self, recorded: int | None) -> int:
        if self.requested_port is not None:
            return self.requested_port
        if recorded and _port_is_free(recorded):
            return recorded
        return _free_port()

    def _launch(self) -> None:
        command = [
            _daemon_path(),
            "--host", HOST,
            "--port", str(self.port),
            "--storage-path", str(self.storage_path),
            # Without it a hard kill loses acknowledged writes.
            "--sync-on-commit",
            "--log-level", "WARNING",
            *(["--auth"] if self.auth else []),
        ]
        log = open(self.data_dir / "embedded.log", "ab")
        self._process = subprocess.Popen(
            command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()

        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers_ping(self.uri, timeout_ms=300):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process.kill()
                self._process.wait()
                raise EmbeddedServerUnavailable(
                    f"the embedded database did not start; see {self.data_dir / 'embedded.log'}"
                )
        self._write_state(port=self.port, pid=self._process.pid)
        logger.info("embedded database started on port %s (data in %s)", self.port,
                    self.storage_path)

    def supervise(self, interval: float = 0.5) -> None:
        """Restart the server whenever it dies, until `stop` is called."""
        if not self.owned or self._supervisor is not None:
            return
        self._supervisor = threading.Thread(
            target=self._watch, args=(interval,), name="embedded-db-supervisor", daemon=True
        )
        self._supervisor.start()

    def _watch(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            process = self._process
            if process is None or process.poll() is None:
                continue
            logger.warning(
                "embedded database exited unexpectedly (exit code %s); restarting it",
                process.returncode,
            )
            try:
                with self._start_lock():
                    if not self._stopping.is_set():
                        self._launch()
            except EmbeddedServerUnavailable:
                logger.exception("could not restart the embedded database; retrying")

    def stop(self) -> None:
        """Stop the server if this object started it; a no-op when it only attached."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join()
        process = self._process
        if not self.owned or process is None:
            return

        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("embedded database did not stop in time; killing it")
                process.kill()
                process.wait()
        self._write_state(port=self.port, pid=None)
        logger.info("embedded database stopped")

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._process
