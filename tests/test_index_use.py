"""Every query the API sends can be answered from an index, never by scanning a collection.

The queries are not listed by hand: a command listener records what the driver really sends
while every route runs. Each recorded filter must constrain the leading field of a declared
index. On a real mongod (CONVOSTORE_TEST_MONGODB_URI) each one is also explained, and its
winning plan must not scan. SecantusDB's explain output does not describe what its executor
does (it reports COLLSCAN for {_id, user_id}, which it answers by an _id lookup), so there
the plans are not asserted.
"""

import os

from convostore.querylog import plan_stages, register_recorder, unindexed
from tests.helpers import append, check, create_conversation, page_through

RECORDER = register_recorder()


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
    assert (await client.get("/v1/users/me/export", headers=h)).status_code == 200
    await client.delete(path, headers=h)
    await client.delete("/v1/users/me", headers=h)


async def test_no_api_query_scans_a_collection(client, alice, admin, db):
    RECORDER.queries.clear()
    RECORDER.recording = True
    try:
        await _exercise_every_route(client, alice, admin)
    finally:
        RECORDER.recording = False
    assert len(RECORDER.queries) > 30

    assert await unindexed(db, RECORDER.queries) == []

    if not os.environ.get("CONVOSTORE_TEST_MONGODB_URI"):
        return
    scans = [(query, stages) for query in RECORDER.queries
             if "COLLSCAN" in (stages := await plan_stages(db, query))]
    assert scans == []
