import asyncio
from datetime import UTC, datetime

from bson import ObjectId

from convostore.api.recent import RecentConversations
from tests.helpers import append, check, check_error, create_conversation, page_through


async def test_append_assigns_consecutive_seq_and_keeps_owner(client, alice, db):
    conversation = await create_conversation(client, alice)
    first = await append(client, alice, conversation["id"], "one")
    second = await append(client, alice, conversation["id"], "two", role="assistant")

    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["user_id"] == alice.id and first["conversation_id"] == conversation["id"]
    raw = await db["messages"].find_one({"seq": 2})
    assert raw["user_id"] == alice.user.id
    assert type(raw["conversation_id"]).__name__ == "ObjectId"


async def test_timestamp_defaults_to_created_at_and_keeps_a_given_time(client, alice):
    conversation = await create_conversation(client, alice)
    default = await append(client, alice, conversation["id"], "now")
    assert default["timestamp"] == default["created_at"]

    given = await append(client, alice, conversation["id"], "then",
                         timestamp="2018-05-02T19:38:15.123456Z")
    assert given["timestamp"] == "2018-05-02T19:38:15.123Z"
    read = check(await client.get(
        f"/v1/conversations/{conversation['id']}/messages/{given['id']}", headers=alice.headers
    ), 200)
    assert read == given


async def test_batch_is_stored_in_order(client, alice):
    conversation = await create_conversation(client, alice)
    await append(client, alice, conversation["id"], "zero")
    batch = [{"role": "user" if n % 2 else "assistant", "content": f"m{n}"} for n in range(1, 6)]
    response = await client.post(f"/v1/conversations/{conversation['id']}/messages/batch",
                                 json={"messages": batch}, headers=alice.headers)
    stored = check(response, 201)["data"]
    assert [m["seq"] for m in stored] == [2, 3, 4, 5, 6]
    assert [m["content"] for m in stored] == [f"m{n}" for n in range(1, 6)]

    after = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                   headers=alice.headers), 200)
    assert after["message_count"] == 6


async def test_batch_limits(client, alice, db):
    conversation = await create_conversation(client, alice)
    path = f"/v1/conversations/{conversation['id']}/messages/batch"
    one = {"role": "user", "content": "x"}
    check_error(await client.post(path, json={"messages": []}, headers=alice.headers), 422)
    check_error(await client.post(path, json={"messages": [one] * 101}, headers=alice.headers),
                422)
    check(await client.post(path, json={"messages": [one] * 100}, headers=alice.headers), 201)
    # An invalid message anywhere in a batch stores none of it.
    bad = [one] * 5 + [{"role": "robot", "content": "x"}]
    check_error(await client.post(path, json={"messages": bad}, headers=alice.headers), 422)
    assert await db["messages"].count_documents({}) == 100


async def test_list_ascending_and_descending(client, alice):
    conversation = await create_conversation(client, alice)
    for n in range(5):
        await append(client, alice, conversation["id"], f"m{n}")
    path = f"/v1/conversations/{conversation['id']}/messages"

    ascending = await page_through(client, alice, path, limit=2)
    assert [m["seq"] for m in ascending] == [1, 2, 3, 4, 5]
    descending = await page_through(client, alice, path, limit=2, order="desc")
    assert [m["seq"] for m in descending] == [5, 4, 3, 2, 1]
    latest = check(await client.get(path, params={"order": "desc", "limit": 1},
                                    headers=alice.headers), 200)
    assert latest["data"][0]["content"] == "m4" and latest["has_more"]


def trust_conversations_for_a_minute(app) -> RecentConversations:
    """What the API remembers of conversations, kept long enough for a slow test machine."""
    app.state.recent_conversations = RecentConversations(ttl=60)
    return app.state.recent_conversations


async def test_a_stale_remembered_last_seq_still_lists_every_message(app, client, alice):
    conversation = await create_conversation(client, alice)
    for n in range(5):
        await append(client, alice, conversation["id"], f"m{n}")
    path = f"/v1/conversations/{conversation['id']}/messages"
    # As if this process had last read the conversation after its first message.
    recent = trust_conversations_for_a_minute(app)
    recent.remember(alice.user.id, ObjectId(conversation["id"]), 1)

    latest = check(await client.get(path, params={"order": "desc", "limit": 2},
                                    headers=alice.headers), 200)
    assert [m["seq"] for m in latest["data"]] == [5, 4]
    assert [m["seq"] for m in await page_through(client, alice, path, limit=2)] == [1, 2, 3, 4, 5]
    descending = await page_through(client, alice, path, limit=2, order="desc")
    assert [m["seq"] for m in descending] == [5, 4, 3, 2, 1]


async def test_a_conversation_deleted_by_another_process_is_404(app, client, alice, db):
    conversation = await create_conversation(client, alice)
    await append(client, alice, conversation["id"], "hello")
    path = f"/v1/conversations/{conversation['id']}/messages"
    trust_conversations_for_a_minute(app)
    check(await client.get(path, headers=alice.headers), 200)

    # Another API process deletes it: this one still remembers the conversation.
    conversation_id = ObjectId(conversation["id"])
    await db["conversations"].delete_one({"_id": conversation_id})
    await db["messages"].delete_many({"conversation_id": conversation_id})

    check_error(await client.get(path, headers=alice.headers), 404)


async def test_a_remembered_conversation_shows_no_one_else_its_messages(app, client, alice, bob):
    conversation = await create_conversation(client, alice)
    await append(client, alice, conversation["id"], "alice's secret")
    # Even were this process to believe the conversation was Bob's, his reads name him.
    recent = trust_conversations_for_a_minute(app)
    recent.remember(bob.user.id, ObjectId(conversation["id"]), 1)

    path = f"/v1/conversations/{conversation['id']}/messages"
    check_error(await client.get(path, headers=bob.headers), 404)


async def test_appends_with_a_wrong_remembered_last_seq_still_get_the_next_seq(
    app, client, alice, db
):
    conversation = await create_conversation(client, alice)
    conversation_id = ObjectId(conversation["id"])
    recent = trust_conversations_for_a_minute(app)
    assert (await append(client, alice, conversation["id"], "m1"))["seq"] == 1

    # Another API process appends meanwhile: this one's memory is behind...
    await db["conversations"].update_one({"_id": conversation_id},
                                         {"$inc": {"last_seq": 1, "message_count": 1}})
    assert (await append(client, alice, conversation["id"], "m3"))["seq"] == 3
    # ...or, were it ever ahead, still no seq is skipped or repeated.
    recent.remember(alice.user.id, conversation_id, 10)
    assert (await append(client, alice, conversation["id"], "m4"))["seq"] == 4
    stored = await db["conversations"].find_one({"_id": conversation_id})
    assert stored["last_seq"] == 4 and stored["message_count"] == 4


async def test_a_remembered_conversation_takes_no_one_elses_appends(app, client, alice, bob, db):
    conversation = await create_conversation(client, alice)
    conversation_id = ObjectId(conversation["id"])
    await append(client, alice, conversation["id"], "mine")
    recent = trust_conversations_for_a_minute(app)
    recent.remember(bob.user.id, conversation_id, 1)

    check_error(await client.post(f"/v1/conversations/{conversation['id']}/messages",
                                  json={"role": "user", "content": "bob's"},
                                  headers=bob.headers), 404)
    stored = await db["conversations"].find_one({"_id": conversation_id})
    assert stored["last_seq"] == 1 and await db["messages"].count_documents({}) == 1


async def test_an_append_finishing_after_its_conversation_was_deleted_leaves_nothing(
    app, client, alice, db
):
    conversation = await create_conversation(client, alice)
    conversation_id = ObjectId(conversation["id"])
    await append(client, alice, conversation["id"], "before")
    recent = trust_conversations_for_a_minute(app)
    assert (await client.delete(f"/v1/conversations/{conversation['id']}",
                                headers=alice.headers)).status_code == 204

    # An append that had claimed its seq before the delete finishes after it:
    recent.remember(alice.user.id, conversation_id, 2)
    now = datetime.now(UTC)
    await db["messages"].insert_one({
        "conversation_id": conversation_id, "user_id": alice.user.id, "seq": 2, "role": "user",
        "content": "late", "timestamp": now, "metadata": {}, "created_at": now,
        "updated_at": now})
    # ...this process does not take the conversation for alive again,
    path = f"/v1/conversations/{conversation['id']}/messages"
    check_error(await client.get(path, headers=alice.headers), 404)
    # ...and the late sweep removes the message.
    await app.state.late_sweeper.flush()
    assert await db["messages"].count_documents({"conversation_id": conversation_id}) == 0


async def test_patch_and_delete_message(client, alice):
    conversation = await create_conversation(client, alice)
    message = await append(client, alice, conversation["id"], "typo")
    await append(client, alice, conversation["id"], "next")
    path = f"/v1/conversations/{conversation['id']}/messages/{message['id']}"

    await asyncio.sleep(0.005)
    patched = check(await client.patch(path, json={"content": "fixed", "metadata": {"e": "1"}},
                                       headers=alice.headers), 200)
    assert patched["content"] == "fixed" and patched["metadata"] == {"e": "1"}
    assert patched["seq"] == 1 and patched["created_at"] == message["created_at"]
    assert patched["updated_at"] > message["updated_at"]
    edited = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                    headers=alice.headers), 200)
    assert edited["updated_at"] == patched["updated_at"]
    check_error(await client.patch(path, json={"role": "assistant"}, headers=alice.headers), 422)

    assert (await client.delete(path, headers=alice.headers)).status_code == 204
    check_error(await client.get(path, headers=alice.headers), 404)
    after = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                   headers=alice.headers), 200)
    assert after["message_count"] == 1
    # A deleted message's seq is never handed out again.
    assert (await append(client, alice, conversation["id"], "third"))["seq"] == 3


async def test_content_size_limit(client, alice, db):
    conversation = await create_conversation(client, alice)
    path = f"/v1/conversations/{conversation['id']}/messages"
    at_limit = "é" * (128 * 1024)  # 256 KiB of UTF-8
    check(await client.post(path, json={"role": "user", "content": at_limit},
                            headers=alice.headers), 201)
    check_error(await client.post(path, json={"role": "user", "content": at_limit + "x"},
                                  headers=alice.headers), 422)
    assert await db["messages"].count_documents({}) == 1


async def test_invalid_role_and_empty_content(client, alice):
    conversation = await create_conversation(client, alice)
    path = f"/v1/conversations/{conversation['id']}/messages"
    check_error(await client.post(path, json={"role": "robot", "content": "x"},
                                  headers=alice.headers), 422)
    # Empty content is a real message (imported chats have them); it is kept.
    assert (await append(client, alice, conversation["id"], ""))["content"] == ""


async def test_appending_to_a_missing_conversation_is_404(client, alice):
    response = await client.post("/v1/conversations/0123456789abcdef01234567/messages",
                                 json={"role": "user", "content": "x"}, headers=alice.headers)
    check_error(response, 404, "not_found")
