"""Paging is exact: every item once, in order, with tied timestamps and concurrent appends."""

import asyncio

from convostore.api.pagination import encode_cursor
from convostore.models import Conversation, Task
from convostore.services import history
from tests.helpers import append, check, check_error, create_conversation, page_through


async def test_tasks_with_identical_created_at_page_exactly(client, alice):
    # insert_many stamps every task of the call with one clock reading: all of them tie.
    await Task.insert_many([Task(user_id=alice.user.id, title=f"t{n}") for n in range(25)])
    stored = await Task.find_all().to_list()
    assert len({t.created_at for t in stored}) == 1

    listed = await page_through(client, alice, "/v1/tasks", limit=4)
    assert len(listed) == 25
    assert [t["id"] for t in listed] == sorted((str(t.id) for t in stored), reverse=True)


async def test_conversations_with_identical_updated_at_page_exactly(client, alice):
    await Conversation.insert_many(
        [Conversation(user_id=alice.user.id, title=f"c{n}") for n in range(13)]
    )
    stored = await Conversation.find_all().to_list()
    assert len({c.updated_at for c in stored}) == 1

    listed = await page_through(client, alice, "/v1/conversations", limit=5)
    assert [c["id"] for c in listed] == sorted((str(c.id) for c in stored), reverse=True)


async def test_new_tasks_during_paging_cause_no_repeats_or_gaps(client, alice):
    for n in range(10):
        await client.post("/v1/tasks", json={"title": f"old{n}"}, headers=alice.headers)
    first = check(await client.get("/v1/tasks", params={"limit": 4}, headers=alice.headers), 200)
    for n in range(5):
        await client.post("/v1/tasks", json={"title": f"new{n}"}, headers=alice.headers)

    rest = await page_through(client, alice, "/v1/tasks", limit=4,
                              cursor=first["next_cursor"])
    titles = [t["title"] for t in first["data"] + rest]
    assert titles == [f"old{n}" for n in reversed(range(10))]


async def test_messages_page_exactly_while_appends_run_concurrently(client, alice):
    conversation = await create_conversation(client, alice)
    for n in range(30):
        await append(client, alice, conversation["id"], f"m{n}")
    path = f"/v1/conversations/{conversation['id']}/messages"

    async def writer():
        for n in range(30, 60):
            await append(client, alice, conversation["id"], f"m{n}")
            await asyncio.sleep(0)

    async def reader():
        return await page_through(client, alice, path, limit=7)

    _, seen = await asyncio.gather(writer(), reader())
    seqs = [m["seq"] for m in seen]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 30

    everything = await page_through(client, alice, path, limit=100)
    assert [m["content"] for m in everything] == [f"m{n}" for n in range(60)]


async def test_concurrent_appends_get_unique_gapless_seq(client, alice):
    conversation = await create_conversation(client, alice)
    results = await asyncio.gather(*(
        append(client, alice, conversation["id"], f"c{n}") for n in range(50)
    ))
    assert sorted(m["seq"] for m in results) == list(range(1, 51))
    after = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                   headers=alice.headers), 200)
    assert after["message_count"] == 50


async def test_bad_cursors_are_refused(client, alice):
    conversation = await create_conversation(client, alice)
    path = f"/v1/conversations/{conversation['id']}/messages"
    too_big = encode_cursor(f"messages:{conversation['id']}:asc", {"seq": 2**63})
    negative = encode_cursor(f"messages:{conversation['id']}:asc", {"seq": -1})
    for cursor in ("garbage", "eyJsIjoieCJ9", "%%%", too_big, negative):
        check_error(await client.get(path, params={"cursor": cursor}, headers=alice.headers), 422)

    for n in range(3):
        await append(client, alice, conversation["id"], f"m{n}")
    page = check(await client.get(path, params={"limit": 1}, headers=alice.headers), 200)
    # A cursor of one listing is refused by another.
    check_error(await client.get(path, params={"cursor": page["next_cursor"], "order": "desc"},
                                 headers=alice.headers), 422)
    check_error(await client.get("/v1/tasks", params={"cursor": page["next_cursor"]},
                                 headers=alice.headers), 422)
    other = await create_conversation(client, alice)
    check_error(await client.get(f"/v1/conversations/{other['id']}/messages",
                                 params={"cursor": page["next_cursor"]},
                                 headers=alice.headers), 422)


async def test_limit_bounds(client, alice):
    for limit in (0, 101, -1, "x"):
        check_error(await client.get("/v1/tasks", params={"limit": limit},
                                     headers=alice.headers), 422)


async def test_messages_page_exactly_across_large_seq_gaps(client, alice, db):
    conversation = await create_conversation(client, alice)
    await client.post(f"/v1/conversations/{conversation['id']}/messages/batch",
                      json={"messages": [{"role": "user", "content": f"m{n}"}
                                         for n in range(1, 41)]},
                      headers=alice.headers)
    # Leave seq 1-2, 20 and 38-40: pages must widen their window to find the next ones.
    await db["messages"].delete_many({"seq": {"$nin": [1, 2, 20, 38, 39, 40]}})
    path = f"/v1/conversations/{conversation['id']}/messages"

    for limit in (1, 2, 3, 5):
        ascending = await page_through(client, alice, path, limit=limit)
        assert [m["seq"] for m in ascending] == [1, 2, 20, 38, 39, 40]
        descending = await page_through(client, alice, path, limit=limit, order="desc")
        assert [m["seq"] for m in descending] == [40, 39, 38, 20, 2, 1]


async def test_a_descending_cursor_past_the_newest_message_is_answered_in_one_read(
    client, alice, monkeypatch
):
    conversation = await create_conversation(client, alice)
    for n in range(1, 6):
        await append(client, alice, conversation["id"], f"m{n}")
    reads = []
    real_read = history._read

    async def counted_read(*args, **kwargs):
        reads.append(args)
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(history, "_read", counted_read)
    # Only the server issues cursors, but a client can craft one: seq near 2**63 once took a
    # window widened some thirty times before it reached the messages.
    listing = f"messages:{conversation['id']}:desc"
    cursor = encode_cursor(listing, {"seq": 2**63 - 1})
    page = check(await client.get(f"/v1/conversations/{conversation['id']}/messages",
                                  params={"order": "desc", "limit": 2, "cursor": cursor},
                                  headers=alice.headers), 200)
    assert [m["seq"] for m in page["data"]] == [5, 4] and page["has_more"]
    assert len(reads) == 1
