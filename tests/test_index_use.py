"""Every query the API sends can be answered from an index, never by scanning a collection.

The queries are not listed by hand: a command listener records what the driver really sends
while every route runs. Each recorded filter must constrain the leading field of a declared
index. On a real mongod (CONVOSTORE_TEST_MONGODB_URI) each one is also explained, and its
winning plan must not scan. SecantusDB's explain output does not describe what its executor
does (it reports COLLSCAN for {_id, user_id}, which it answers by an _id lookup), so there
the plans are not asserted.
"""

import os
from typing import Any

from pymongo import monitoring

from tests.helpers import append, check, create_conversation, page_through

_QUERY_COMMANDS = {"find", "findAndModify", "aggregate", "delete", "update"}


class QueryRecorder(monitoring.CommandListener):
    """Records (collection, filter, sort, hint) of every query-bearing command."""

    def __init__(self) -> None:
        self.recording = False
        self.queries: list[tuple[str, dict[str, Any], Any, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.recording or event.command_name not in _QUERY_COMMANDS:
            return
        command = event.command
        collection = command[event.command_name]
        if event.command_name == "find":
            statements = [(command.get("filter", {}), command.get("sort"), command.get("hint"))]
        elif event.command_name == "findAndModify":
            statements = [(command.get("query", {}), command.get("sort"), command.get("hint"))]
        elif event.command_name == "aggregate":
            match = command["pipeline"][0].get("$match", {}) if command["pipeline"] else {}
            statements = [(match, None, command.get("hint"))]
        else:
            key = "updates" if event.command_name == "update" else "deletes"
            statements = [(s.get("q", {}), None, s.get("hint")) for s in command.get(key, [])]
        for query_filter, sort, hint in statements:
            self.queries.append((collection, query_filter, sort, hint))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


# PyMongo listeners are registered for the process and apply to clients created afterwards.
RECORDER = QueryRecorder()
monitoring.register(RECORDER)


def _stages(plan: dict) -> list[str]:
    stages = [plan.get("stage", "")]
    for key in ("inputStage", "outerStage", "innerStage"):
        if key in plan:
            stages += _stages(plan[key])
    for child in plan.get("inputStages", []):
        stages += _stages(child)
    return stages


async def _exercise_every_route(client, alice, admin) -> None:
    h = alice.headers
    check(await client.post("/v1/users", json={"email": "n@example.com"}, headers=admin.headers),
          201)
    check(await client.patch("/v1/users/me", json={"name": "A"}, headers=h), 200)
    task = check(await client.post("/v1/tasks", json={"title": "t"}, headers=h), 201)
    for _ in range(3):
        await client.post("/v1/tasks", json={"title": "t"}, headers=h)
    await page_through(client, alice, "/v1/tasks", limit=2)
    await page_through(client, alice, "/v1/tasks", limit=2, completed="false")
    check(await client.get(f"/v1/tasks/{task['id']}", headers=h), 200)
    check(await client.put(f"/v1/tasks/{task['id']}", json={"title": "u"}, headers=h), 200)
    check(await client.patch(f"/v1/tasks/{task['id']}", json={"completed": True}, headers=h), 200)
    await client.delete(f"/v1/tasks/{task['id']}", headers=h)

    conversation = await create_conversation(client, alice)
    await create_conversation(client, alice)
    await page_through(client, alice, "/v1/conversations", limit=1)
    path = f"/v1/conversations/{conversation['id']}"
    check(await client.patch(path, json={"title": "x"}, headers=h), 200)
    message = await append(client, alice, conversation["id"], "m")
    keyed = {**h, "Idempotency-Key": "k"}
    for _ in range(2):
        await client.post(f"{path}/messages", json={"role": "user", "content": "k"}, headers=keyed)
    await client.post(f"{path}/messages/batch",
                      json={"messages": [{"role": "user", "content": "b"}] * 3}, headers=h)
    for order in ("asc", "desc"):
        await page_through(client, alice, f"{path}/messages", limit=2, order=order)
    check(await client.get(f"{path}/messages/{message['id']}", headers=h), 200)
    check(await client.patch(f"{path}/messages/{message['id']}", json={"content": "e"},
                             headers=h), 200)
    await client.delete(f"{path}/messages/{message['id']}", headers=h)
    await client.delete(path, headers=h)
    await client.delete("/v1/users/me", headers=h)


def _constrained_fields(query_filter: dict[str, Any]) -> set[str]:
    """Top-level fields the filter pins to a value or a range (what an index can seek on)."""
    fields = set()
    for field, condition in query_filter.items():
        if field.startswith("$"):
            continue
        if isinstance(condition, dict) and not set(condition) <= _SEEKABLE_OPERATORS:
            continue
        fields.add(field)
    return fields


_SEEKABLE_OPERATORS = {"$eq", "$in", "$gt", "$gte", "$lt", "$lte"}


async def test_no_api_query_scans_a_collection(client, alice, admin, db):
    RECORDER.queries.clear()
    RECORDER.recording = True
    try:
        await _exercise_every_route(client, alice, admin)
    finally:
        RECORDER.recording = False
    assert len(RECORDER.queries) > 30

    leading_fields = {}
    for name in await db.list_collection_names():
        indexes = await db[name].index_information()
        leading_fields[name] = {spec["key"][0][0] for spec in indexes.values()}

    unindexed = [
        (collection, query_filter)
        for collection, query_filter, _, _ in RECORDER.queries
        if not _constrained_fields(query_filter) & leading_fields[collection]
    ]
    assert unindexed == []

    if not os.environ.get("CONVOSTORE_TEST_MONGODB_URI"):
        return
    scans = []
    for collection, query_filter, sort, hint in RECORDER.queries:
        command: dict[str, Any] = {"find": collection, "filter": query_filter}
        if sort:
            command["sort"] = sort
        if hint:
            command["hint"] = hint
        explained = await db.command({"explain": command, "verbosity": "queryPlanner"})
        stages = _stages(explained["queryPlanner"]["winningPlan"])
        if "COLLSCAN" in stages:
            scans.append((collection, query_filter, sort, stages))
    assert scans == []
