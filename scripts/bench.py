"""convostore's benchmarks: every figure a ratio against a baseline run side by side.

    python scripts/bench.py [--json FILE] [--import-limit N] [--seconds S] [--clients C]

Everything runs in one invocation against one database server: the embedded one (started
here), or CONVOSTORE_MONGODB_URI. Absolute times drift on shared machines, so each figure
compares convostore with a baseline measured in the same run, alternating between the two
where the measurement allows it. Needs the test extras (`pip install -e '.[test]'`).

1. import      `import_conversations` (what `convostore import --chitchat` runs) against
               plain pymongo `insert_many` of the same documents in batches of the same size,
               alternating batch by batch. Target: at least 0.7 of the raw throughput.
2. read        the latest 50 messages of a conversation over HTTP, C concurrent clients,
               against a minimal FastAPI endpoint that runs the same query with raw pymongo.
               Target: at least 0.75 of the baseline's requests per second.
3. write       appending one message (with the conversation's bookkeeping) against a raw
               insert_one + update_one endpoint. Target: at least 0.75.
4. growth      the latest page of a 50-message conversation among 10,000 messages of other
               conversations (a copy of the database before the import, served by a second
               API process) and among 250,000+ (after it), alternating round by round: time
               at the large size over the small one, each its quietest round. Target: at
               most 1.2.
5. index use   every query the API's routes send (walking the OpenAPI route table), checked
               against the declared indexes; against CONVOSTORE_MONGODB_URI no `explain`
               winning plan may scan a collection either (on SecantusDB it is reported only).
6. memory      the API process's resident memory while it streams one user's export of
               every imported message: how much it grew over the second half of the bytes
               exported, per byte of that half. Flat (streaming) is near 0; holding the
               export would be 1 or more. Target: at most 0.05.
"""

import asyncio
import itertools
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from bson import ObjectId
from pymongo import DESCENDING, AsyncMongoClient
from rich.console import Console
from rich.table import Table

from convostore import __version__
from convostore.auth import issue_token
from convostore.config import get_settings
from convostore.database import init_models
from convostore.embedded import EmbeddedServer
from convostore.importing import BATCH_MESSAGES, ImportReport, import_conversations, read_chitchat
from convostore.migrations.run import migrate
from convostore.models import Conversation, User
from convostore.querylog import plan_stages, register_recorder, unindexed
from convostore.services.messages import MessageDraft, append_messages

console = Console()
cli = typer.Typer(add_completion=False)
SECRET = "bench-secret-" + "0123456789abcdef" * 3
PAGE = 50
GROWTH_SMALL = 10_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def message_document(conversation_id: ObjectId, user_id: ObjectId, seq: int, content: str,
                     when: datetime) -> dict[str, Any]:
    """A message exactly as convostore stores it, for the raw baselines."""
    return {"conversation_id": conversation_id, "user_id": user_id, "seq": seq, "role": "user",
            "content": content, "timestamp": when, "metadata": {}, "created_at": when,
            "updated_at": when}


# --- the baseline API: the same queries, raw pymongo, raw documents as JSON ---------------

def baseline_app(uri: str, database: str, conversation_id: str, last_seq: int):
    from fastapi import FastAPI

    app = FastAPI()
    client = AsyncMongoClient(uri, tz_aware=True)
    db = client[database]
    # Appends go to the baseline's own collections, which have convostore's indexes and
    # validators too; seq numbers come from a counter in this process.
    raw = client[database + "_raw"]
    next_seq: dict[ObjectId, Iterator[int]] = defaultdict(lambda: itertools.count(1))
    target = ObjectId(conversation_id)

    def plain(document: dict[str, Any]) -> dict[str, Any]:
        return {key: str(value) if isinstance(value, ObjectId | datetime) else value
                for key, value in document.items()}

    @app.get("/latest")
    async def latest() -> list[dict[str, Any]]:
        cursor = db.messages.find({"conversation_id": target,
                                   "seq": {"$gt": last_seq - PAGE - 1}})
        return [plain(d) async for d in cursor.sort("seq", DESCENDING).limit(PAGE)]

    @app.post("/append/{conversation}")
    async def append(conversation: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        conversation_oid = ObjectId(conversation)
        result = await raw.conversations.update_one(
            {"_id": conversation_oid},
            {"$inc": {"last_seq": 1, "message_count": 1}, "$max": {"last_message_at": now},
             "$set": {"updated_at": now}})
        document = message_document(conversation_oid, conversation_oid,
                                    next(next_seq[conversation_oid]), "hello", now)
        document["_id"] = (await raw.messages.insert_one(document)).inserted_id
        return plain(document) | {"matched": result.matched_count}

    return app


@cli.command("serve-baseline", hidden=True)
def serve_baseline(port: int, uri: str, database: str, conversation: str, last_seq: int) -> None:
    import uvicorn

    uvicorn.run(baseline_app(uri, database, conversation, last_seq), host="127.0.0.1",
                port=port, log_level="warning")


# --- load generation ----------------------------------------------------------------------

async def load(url: str, method: str, clients: int, seconds: float,
               headers: dict[str, str], urls: list[str] | None = None) -> dict[str, float]:
    """C clients in a closed loop for `seconds`: requests per second, p50 and p99 (ms)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client_loop(index: int) -> None:
        nonlocal errors
        target = urls[index % len(urls)] if urls else url
        async with httpx.AsyncClient(timeout=30) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.request(method, target, headers=headers,
                                              json={"role": "user", "content": "hello"}
                                              if method == "POST" else None)
                if response.status_code >= 300:
                    errors += 1
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(index) for index in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "requests": len(latencies),
        "errors": errors,
    }


async def alternate(rounds: int, **runs: Any) -> dict[str, dict[str, float]]:
    """Run each named load `rounds` times, interleaved; sum requests, pool latencies."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(await run())
    return {
        name: {
            "rps": statistics.mean(r["rps"] for r in rs),
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "p99_ms": max(r["p99_ms"] for r in rs),
            "requests": sum(r["requests"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
        }
        for name, rs in results.items()
    }


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def latest_page_ms(api: str, conversation_id: str, headers: dict[str, str],
                         samples: int = 100) -> float:
    """The median time of one latest-page request."""
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{api}/v1/conversations/{conversation_id}/messages"
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = await http.get(url, params={"order": "desc", "limit": PAGE},
                                      headers=headers)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200 and len(response.json()["data"]) == PAGE
    return 1000 * statistics.median(times)


# --- the figures ----------------------------------------------------------------------------

def http_figure(figure: str, measured: dict[str, dict[str, float]]) -> dict[str, Any]:
    """A load figure: convostore's throughput over the baseline's (target 0.75, no errors)."""
    def describe(run: dict[str, float]) -> str:
        return (f"{run['rps']:.0f} rps, p50 {run['p50_ms']:.0f} ms, "
                f"p99 {run['p99_ms']:.0f} ms")

    ours, raw = measured["convostore"], measured["baseline"]
    ratio = ours["rps"] / raw["rps"]
    return {"figure": figure, "convostore": describe(ours), "baseline": describe(raw),
            "ratio": ratio, "target": ">= 0.75",
            "met": ratio >= 0.75 and ours["errors"] == 0, "errors": ours["errors"]}


async def export_memory(api: str, pid: int, headers: dict[str, str]) -> dict[str, Any]:
    """Peak RSS growth of the API process by the halfway mark of its export, and by the end.

    What counts is the growth over the second half: streaming keeps it near zero, since by
    then every buffer the export needs is allocated; building the export in memory would add
    about a byte per byte exported.
    """
    before = rss_bytes(pid)
    samples = []  # (bytes exported so far, peak RSS so far)
    exported, peak = 0, before
    async with httpx.AsyncClient(timeout=600) as http:
        async with http.stream("GET", f"{api}/v1/users/me/export", headers=headers) as r:
            r.raise_for_status()
            async for chunk in r.aiter_bytes():
                exported += len(chunk)
                peak = max(peak, rss_bytes(pid))
                samples.append((exported, peak))
    peak_at_half = next(rss for sent, rss in samples if sent >= exported / 2)
    ratio = (peak - peak_at_half) / (exported / 2)
    mib = 2**20
    return {"figure": "memory (export)",
            "convostore": f"+{(peak_at_half - before) / mib:.1f} MiB by half, "
                          f"+{(peak - peak_at_half) / mib:.1f} MiB in the second half "
                          f"({before / mib:.0f} -> {peak / mib:.0f} MiB)",
            "baseline": f"{exported / mib:.1f} MiB exported",
            "ratio": ratio, "target": "<= 0.05", "met": ratio <= 0.05}


async def growth(small_api: str, large_api: str, conversation_id: str,
                 headers: dict[str, str], sizes: tuple[int, int], rounds: int = 5) -> dict:
    """The latest page in the small database and in the large one, round by round.

    Medians of single rounds moved by a quarter on this machine; other work only ever adds
    time, so each side's figure is its quietest round.
    """
    small, large = [], []
    for _ in range(rounds):
        small.append(await latest_page_ms(small_api, conversation_id, headers))
        large.append(await latest_page_ms(large_api, conversation_id, headers))
        await asyncio.sleep(1)
    ratio = min(large) / min(small)
    return {"figure": "growth", "convostore": f"{min(large):.1f} ms at {sizes[1]:,}",
            "baseline": f"{min(small):.1f} ms at {sizes[0]:,}", "ratio": ratio,
            "target": "<= 1.20", "met": ratio <= 1.2}


async def import_side_by_side(db, raw_db, user_id: ObjectId, limit: int | None) -> dict:
    source = read_chitchat()
    if limit:
        source = itertools.islice(source, limit)
    ours_seconds = raw_seconds = 0.0
    ours_messages = raw_messages = 0
    batch: list = []
    size = 0

    async def flush(batch: list) -> None:
        nonlocal ours_seconds, raw_seconds, ours_messages, raw_messages
        started = time.perf_counter()
        report = await import_conversations(user_id, batch, ImportReport())
        ours_seconds += time.perf_counter() - started
        ours_messages += report.messages

        started = time.perf_counter()
        documents, conversations = [], []
        now = datetime.now(UTC)
        for draft in batch:
            conversation_id = ObjectId()
            sent = [message.timestamp or now for message in draft.messages]
            conversations.append({
                "_id": conversation_id, "user_id": user_id, "title": draft.title,
                "metadata": draft.metadata, "message_count": len(sent), "last_seq": len(sent),
                "last_message_at": max(sent) if sent else None, "created_at": now,
                "updated_at": now})
            for seq, (message, when) in enumerate(zip(draft.messages, sent, strict=True), 1):
                document = message_document(conversation_id, user_id, seq, message.content,
                                            when)
                document["role"] = message.role.value
                document["metadata"] = message.metadata
                documents.append(document)
        if documents:
            await raw_db.messages.insert_many(documents)
        await raw_db.conversations.insert_many(conversations)
        raw_seconds += time.perf_counter() - started
        raw_messages += len(documents)

    for draft in source:
        batch.append(draft)
        size += len(draft.messages)
        if size >= BATCH_MESSAGES:
            await flush(batch)
            console.print(f"  import: {ours_messages:,} messages", end="\r")
            batch, size = [], 0
    if batch:
        await flush(batch)
    ours, raw = ours_messages / ours_seconds, raw_messages / raw_seconds
    return {"figure": "import", "convostore": f"{ours:,.0f} msg/s",
            "baseline": f"{raw:,.0f} msg/s", "ratio": ours / raw, "target": ">= 0.70",
            "met": ours / raw >= 0.7, "messages": ours_messages}


async def index_use(database, trust_explain: bool) -> dict:
    """Walk the OpenAPI route table in-process, recording every query the routes send.

    Every query must seek on a declared index. On a real mongod (`trust_explain`) no winning
    plan may scan either; SecantusDB's explain reports plans its executor does not follow.
    """
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport

    from convostore.api.app import create_app
    from convostore.config import Settings

    recorder = register_recorder()
    settings = Settings(_env_file=None, mongodb_uri=os.environ["BENCH_URI"],
                        database=database.name, jwt_secret=SECRET,
                        data_dir=Path(os.environ["BENCH_DATA"]))
    app = create_app(settings)
    async with LifespanManager(app), httpx.AsyncClient(
        transport=ASGITransport(app=app), base_url="http://bench"
    ) as http:
        user = User(email=f"walker-{uuid.uuid4().hex[:8]}@example.com")
        await user.insert()
        headers = {"Authorization": f"Bearer {issue_token(SECRET, user.id, admin=True)}"}
        task = (await http.post("/v1/tasks", json={"title": "t"}, headers=headers)).json()
        conversation = (await http.post("/v1/conversations", json={}, headers=headers)).json()
        message = (await http.post(f"/v1/conversations/{conversation['id']}/messages",
                                   json={"role": "user", "content": "m"},
                                   headers=headers)).json()
        ids = {"task_id": task["id"], "conversation_id": conversation["id"],
               "message_id": message["id"]}
        bodies = {"TaskCreate": {"title": "t"}, "TaskReplace": {"title": "t"},
                  "TaskUpdate": {"title": "u"}, "ConversationCreate": {},
                  "ConversationUpdate": {"title": "c"}, "UserCreate": {
                      "email": f"made-{uuid.uuid4().hex[:8]}@example.com"},
                  "UserUpdate": {"name": "n"},
                  "MessageCreate": {"role": "user", "content": "x"},
                  "MessageBatchCreate": {"messages": [{"role": "user", "content": "x"}]},
                  "MessageUpdate": {"content": "y"}}
        recorder.recording = True
        operations = 0
        # DELETEs last, so that every other route still finds its documents.
        routes = sorted(app.openapi()["paths"].items())
        for method_filter in (lambda m: m != "delete", lambda m: m == "delete"):
            for path, operations_by_method in routes:
                for method, operation in operations_by_method.items():
                    if not method_filter(method):
                        continue
                    ref = (operation.get("requestBody", {}).get("content", {})
                           .get("application/json", {}).get("schema", {}).get("$ref", ""))
                    body = bodies.get(ref.rsplit("/", 1)[-1]) if ref else None
                    await http.request(method.upper(), path.format(**ids), json=body,
                                       headers=headers)
                    operations += 1
        recorder.recording = False

    queries = recorder.queries
    missing = await unindexed(database, queries)
    scans = [query for query in queries if "COLLSCAN" in await plan_stages(database, query)]
    return {"figure": "index use", "convostore": f"{len(queries)} queries, {operations} routes",
            "baseline": "declared indexes", "ratio": len(missing),
            "target": "0 unindexed", "met": not missing and not (trust_explain and scans),
            "note": f"explain reported COLLSCAN for {len(scans)} (SecantusDB's explain; see "
                    "README)" if scans else "no COLLSCAN in any plan"}


async def run(import_limit: int | None, seconds: float,
              clients: int) -> tuple[list[dict], dict]:
    settings = get_settings()
    embedded = None
    if settings.mongodb_uri is None:
        embedded = EmbeddedServer(Path(tempfile.mkdtemp(prefix="convostore-bench-db-"))).start()
        uri = embedded.uri
    else:
        uri = settings.mongodb_uri.get_secret_value()
    os.environ["BENCH_URI"] = uri
    work = Path(tempfile.mkdtemp(prefix="convostore-bench-"))
    os.environ["BENCH_DATA"] = str(work)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    client = AsyncMongoClient(uri, tz_aware=True)
    db, raw_db, small_db = client[name], client[name + "_raw"], client[name + "_small"]
    results: list[dict] = []
    processes: list[subprocess.Popen] = []
    try:
        # The baseline's collections, and the growth figure's small database, get the same
        # indexes and validators as convostore's.
        for database in (raw_db, small_db, db):
            await init_models(database)
            await migrate(database)
        user = User(email="bench@example.com")
        await user.insert()
        headers = {"Authorization": f"Bearer {issue_token(SECRET, user.id)}"}

        # The growth target: one conversation of 50 messages, 10,000 others around it.
        target = Conversation(user_id=user.id, title="target")
        await target.insert()
        await append_messages(target.id, user.id,
                              [MessageDraft(role="user", content=f"m{n}") for n in range(PAGE)])
        now = datetime.now(UTC)
        filler = [message_document(ObjectId(), user.id, 1, "filler", now)
                  for _ in range(GROWTH_SMALL)]
        await db.messages.insert_many(filler)
        # The growth figure's small side stays this size: a copy, served by an API of its own.
        for collection in ("users", "conversations", "messages"):
            await small_db[collection].insert_many(await db[collection].find().to_list())

        env = {key: value for key, value in os.environ.items()
               if not key.startswith("CONVOSTORE_")}
        env.update({"CONVOSTORE_MONGODB_URI": uri, "CONVOSTORE_DATABASE": name,
                    "CONVOSTORE_JWT_SECRET": SECRET, "CONVOSTORE_DATA_DIR": str(work)})
        api_port = free_port()
        api = f"http://127.0.0.1:{api_port}"
        server = start_process([sys.executable, "-m", "convostore", "serve", "--port",
                                str(api_port)], env, work / "api.log")
        processes.append(server)
        small_port = free_port()
        small_api = f"http://127.0.0.1:{small_port}"
        processes.append(start_process(
            [sys.executable, "-m", "convostore", "serve", "--port", str(small_port)],
            {**env, "CONVOSTORE_DATABASE": small_db.name}, work / "small-api.log"))
        await wait_ready(f"{api}/readyz")
        await wait_ready(f"{small_api}/readyz")

        results.append(await import_side_by_side(db, raw_db, user.id, import_limit))
        console.print(results[-1])

        sizes = (await small_db.messages.count_documents({}),
                 await db.messages.count_documents({}))
        results.append(await growth(small_api, api, str(target.id), headers, sizes))
        console.print(results[-1])

        baseline_port = free_port()
        baseline = f"http://127.0.0.1:{baseline_port}"
        last_seq = (await Conversation.get(target.id)).last_seq
        processes.append(start_process(
            [sys.executable, __file__, "serve-baseline", str(baseline_port), uri, name,
             str(target.id), str(last_seq)], env, work / "baseline.log"))
        await wait_ready(f"{baseline}/latest")

        read = await alternate(
            2,
            convostore=lambda: load(
                f"{api}/v1/conversations/{target.id}/messages?order=desc&limit={PAGE}",
                "GET", clients, seconds, headers),
            baseline=lambda: load(f"{baseline}/latest", "GET", clients, seconds, {}),
        )
        results.append(http_figure("read (latest 50)", read))
        console.print(results[-1])

        conversations = [Conversation(user_id=user.id, title=f"w{n}") for n in range(clients)]
        await Conversation.insert_many(conversations)
        stored = await Conversation.find({"title": {"$regex": "^w"}}).to_list()
        append_urls = [f"{api}/v1/conversations/{c.id}/messages" for c in stored]
        now = datetime.now(UTC)
        raw_conversations = [
            {"_id": ObjectId(), "user_id": user.id, "title": f"w{n}", "metadata": {},
             "message_count": 0, "last_seq": 0, "last_message_at": None, "created_at": now,
             "updated_at": now}
            for n in range(clients)
        ]
        await raw_db.conversations.insert_many(raw_conversations)
        baseline_urls = [f"{baseline}/append/{c['_id']}" for c in raw_conversations]
        write = await alternate(
            2,
            convostore=lambda: load("", "POST", clients, seconds, headers, append_urls),
            baseline=lambda: load("", "POST", clients, seconds, {}, baseline_urls),
        )
        results.append(http_figure("write (append)", write))
        console.print(results[-1])

        results.append(await index_use(db, trust_explain=embedded is None))
        console.print(results[-1])

        results.append(await export_memory(api, server.pid, headers))
        console.print(results[-1])
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        if embedded is None:
            for database in (db, raw_db, small_db):
                await client.drop_database(database.name)
        await client.close()
        if embedded is not None:
            # Its whole data directory is a temporary one: faster to remove than to drop.
            embedded.stop()
            shutil.rmtree(embedded.data_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    table = Table(title=f"convostore {__version__} benchmarks")
    for column in ("figure", "convostore", "baseline", "ratio", "target", "met"):
        table.add_column(column)
    for row in results:
        table.add_row(row["figure"], row["convostore"], row["baseline"],
                      f"{row['ratio']:.2f}", row["target"], "yes" if row["met"] else "NO")
    console.print(table)
    machine = {"python": platform.python_version(), "machine": platform.machine(),
               "cpus": os.cpu_count(), "server": "embedded SecantusDB" if embedded else "uri",
               "at": datetime.now(UTC).isoformat(timespec="seconds")}
    console.print(machine)
    return results, machine


@cli.callback(invoke_without_command=True)
def main(
    context: typer.Context,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
    import_limit: Annotated[int | None, typer.Option(
        help="Import only the first N chitchat conversations (default: all 7,168).")] = None,
    seconds: Annotated[float, typer.Option(help="Seconds per load run.")] = 10.0,
    clients: Annotated[int, typer.Option(help="Concurrent HTTP clients.")] = 20,
) -> None:
    """Run every benchmark and print the table."""
    if context.invoked_subcommand is None:
        results, machine = asyncio.run(run(import_limit, seconds, clients))
        if json_path:
            json_path.write_text(json.dumps({"machine": machine, "results": results},
                                            indent=2))


if __name__ == "__main__":
    cli()
