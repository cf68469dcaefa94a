import asyncio

from tests.helpers import append, check, check_error, create_conversation, page_through


async def test_create_read_update_delete(client, alice, db):
    conversation = await create_conversation(client, alice, title="Trip", metadata={"lang": "en"})
    assert conversation["message_count"] == 0
    assert conversation["last_message_at"] is None
    assert conversation["metadata"] == {"lang": "en"}

    path = f"/v1/conversations/{conversation['id']}"
    assert check(await client.get(path, headers=alice.headers), 200) == conversation

    await asyncio.sleep(0.005)
    patched = check(await client.patch(path, json={"title": "Trip to Oslo"},
                                       headers=alice.headers), 200)
    assert patched["title"] == "Trip to Oslo"
    assert patched["metadata"] == {"lang": "en"}
    assert patched["updated_at"] > conversation["updated_at"]

    await append(client, alice, conversation["id"], "hello")
    assert (await client.delete(path, headers=alice.headers)).status_code == 204
    check_error(await client.get(path, headers=alice.headers), 404)
    assert await db["messages"].count_documents({}) == 0


async def test_appending_moves_count_last_message_and_updated_at(client, alice):
    conversation = await create_conversation(client, alice)
    await asyncio.sleep(0.005)
    message = await append(client, alice, conversation["id"], "hi")

    after = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                   headers=alice.headers), 200)
    assert after["message_count"] == 1
    assert after["last_message_at"] == message["timestamp"]
    assert after["updated_at"] == message["created_at"]
    assert after["created_at"] == conversation["created_at"]


async def test_list_is_most_recently_updated_first(client, alice):
    first = await create_conversation(client, alice, title="first")
    await create_conversation(client, alice, title="second")
    await asyncio.sleep(0.005)
    await append(client, alice, first["id"], "bump")

    listed = await page_through(client, alice, "/v1/conversations", limit=1)
    assert [c["title"] for c in listed] == ["first", "second"]


async def test_metadata_limits(client, alice):
    too_many = {f"k{n}": "v" for n in range(17)}
    for metadata in (too_many, {"k" * 65: "v"}, {"k": "v" * 513}, {"$where": "1"},
                     {"a.b": "v"}, {"k": {"$ne": None}}, {"k": 1}):
        response = await client.post("/v1/conversations", json={"metadata": metadata},
                                     headers=alice.headers)
        check_error(response, 422)
    await create_conversation(client, alice, metadata={f"k{n}": "v" * 512 for n in range(16)})
