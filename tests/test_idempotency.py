import asyncio
from datetime import timedelta

from beanie import PydanticObjectId
from bson import ObjectId

from convostore.models import IdempotencyKey
from convostore.services.messages import MessageDraft, _request_hash
from convostore.timestamps import utc_now_ms
from tests.helpers import check, check_error, create_conversation


async def post(client, caller, conversation_id, key, content="hi", path=""):
    body = ({"messages": [{"role": "user", "content": content}] * 3} if path
            else {"role": "user", "content": content})
    return await client.post(f"/v1/conversations/{conversation_id}/messages{path}", json=body,
                             headers={**caller.headers, "Idempotency-Key": key})


async def test_a_retry_returns_the_first_message_and_stores_nothing(client, alice, db):
    conversation = await create_conversation(client, alice)
    first = check(await post(client, alice, conversation["id"], "key-1"), 201)
    again = check(await post(client, alice, conversation["id"], "key-1"), 200)

    assert again == first
    assert await db["messages"].count_documents({}) == 1
    after = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                   headers=alice.headers), 200)
    assert after["message_count"] == 1


async def test_ten_concurrent_retries_store_one_message(client, alice, db):
    conversation = await create_conversation(client, alice)
    responses = await asyncio.gather(*(
        post(client, alice, conversation["id"], "same") for _ in range(10)
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 9 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await db["messages"].count_documents({}) == 1
    stored = await db["conversations"].find_one()
    assert stored["message_count"] == 1 and stored["last_seq"] == 1


async def test_batch_retries_return_the_same_batch(client, alice, db):
    conversation = await create_conversation(client, alice)
    first = check(await post(client, alice, conversation["id"], "b", path="/batch"), 201)
    again = check(await post(client, alice, conversation["id"], "b", path="/batch"), 200)
    assert again == first
    assert await db["messages"].count_documents({}) == 3


async def test_a_key_reused_for_another_request_conflicts(client, alice, db):
    conversation = await create_conversation(client, alice)
    check(await post(client, alice, conversation["id"], "k", content="one"), 201)
    check_error(await post(client, alice, conversation["id"], "k", content="two"), 409,
                "idempotency_key_reused")
    other = await create_conversation(client, alice)
    check_error(await post(client, alice, other["id"], "k", content="one"), 409)
    assert await db["messages"].count_documents({}) == 1


async def test_keys_are_per_user(client, alice, bob, db):
    mine = await create_conversation(client, alice)
    theirs = await create_conversation(client, bob)
    check(await post(client, alice, mine["id"], "shared"), 201)
    check(await post(client, bob, theirs["id"], "shared"), 201)
    assert await db["messages"].count_documents({}) == 2


async def test_a_failed_request_releases_its_key(client, alice, bob, db):
    theirs = await create_conversation(client, bob)
    check_error(await post(client, alice, theirs["id"], "k"), 404)
    mine = await create_conversation(client, alice)
    check(await post(client, alice, mine["id"], "k"), 201)
    assert await db["idempotency_keys"].count_documents({}) == 1


async def test_a_retry_waiting_on_a_request_that_then_fails_runs_itself(client, alice, db):
    conversation = await create_conversation(client, alice)
    conversation_id = ObjectId(conversation["id"])
    # A first request with the key, still running: its claim is stored, its message not yet.
    drafts = [MessageDraft(role="user", content="hi")]
    first = IdempotencyKey(user_id=alice.user.id, key="k", conversation_id=conversation_id,
                           request_hash=_request_hash(conversation_id, drafts),
                           message_ids=[PydanticObjectId()],
                           expires_at=utc_now_ms() + timedelta(hours=1))
    await first.insert()

    async def fail_the_first_request_soon():
        await asyncio.sleep(0.3)
        await db["idempotency_keys"].delete_one({"_id": first.id})  # as its failure does

    retry, _ = await asyncio.gather(post(client, alice, conversation["id"], "k"),
                                    fail_the_first_request_soon())
    stored = check(retry, 201)
    assert stored["content"] == "hi" and await db["messages"].count_documents({}) == 1


async def test_malformed_keys_are_refused(client, alice):
    conversation = await create_conversation(client, alice)
    for key in ("", "x" * 256, "has space"):
        check_error(await post(client, alice, conversation["id"], key), 422)


async def test_a_retry_after_the_message_was_deleted_says_so(client, alice, db):
    conversation = await create_conversation(client, alice)
    first = check(await post(client, alice, conversation["id"], "gone"), 201)
    path = f"/v1/conversations/{conversation['id']}/messages/{first['id']}"
    assert (await client.delete(path, headers=alice.headers)).status_code == 204

    check_error(await post(client, alice, conversation["id"], "gone"), 409,
                "idempotent_result_deleted")
    assert await db["messages"].count_documents({}) == 0
