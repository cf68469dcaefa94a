"""Index and validator migrations, the timestamp backfill and read-only analyst access."""

import os
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from pymongo import IndexModel, MongoClient
from pymongo.errors import OperationFailure, WriteError

from convostore.analysts import analyst_uri, create_analyst
from convostore.embedded import EmbeddedServer
from convostore.migrations.backfill import backfill_timestamps
from convostore.migrations.indexes import (
    BRIDGE_SUFFIX,
    DuplicateKeys,
    apply_index_plan,
    plan_indexes,
)
from convostore.migrations.run import migrate
from convostore.models import Migration
from tests.helpers import check


def _by_collection(plans):
    return {plan.collection: plan for plan in plans}


async def test_plan_finds_a_dropped_a_changed_and_an_extra_index_and_apply_fixes_them(db):
    assert all(plan.in_sync for plan in await plan_indexes(db))
    earlier_records = {m.id for m in await Migration.find_all().to_list()}

    await db["tasks"].drop_index("user_created")
    await db["users"].drop_index("email_unique")
    await db["users"].create_indexes([IndexModel([("email", 1)], name="email_unique")])
    await db["messages"].create_indexes([IndexModel([("role", 1)], name="by_role")])

    plans = _by_collection(await plan_indexes(db))
    assert [spec.name for spec in plans["tasks"].missing] == ["user_created"]
    assert [(d.name, f.options) for d, f in plans["users"].differing] == [("email_unique", {})]
    assert [spec.name for spec in plans["messages"].extra] == ["by_role"]

    done = await apply_index_plan(db, list(plans.values()))
    assert sorted(done) == ["created tasks.user_created", "replaced users.email_unique"]
    after = _by_collection(await plan_indexes(db))
    assert after["tasks"].in_sync and after["users"].in_sync
    assert [spec.name for spec in after["messages"].extra] == ["by_role"]  # kept by default

    assert await apply_index_plan(db, list(after.values()), drop_extra=True) == [
        "dropped messages.by_role"
    ]
    assert all(plan.in_sync for plan in await plan_indexes(db))
    assert await apply_index_plan(db, await plan_indexes(db)) == []  # a second run: nothing

    information = await db["users"].index_information()
    assert information["email_unique"]["unique"] is True
    assert not any(name.endswith(BRIDGE_SUFFIX) for name in information)
    recorded = [m for m in await Migration.find_all().to_list() if m.id not in earlier_records]
    assert {(m.action, m.target, m.name) for m in recorded} == {
        ("create", "tasks", "user_created"), ("replace", "users", "email_unique"),
        ("drop", "messages", "by_role")}
    assert all(m.convostore_version for m in recorded)


async def test_a_leftover_bridge_from_an_interrupted_replace_is_removed(db):
    bridge = "email_unique" + BRIDGE_SUFFIX
    await db["users"].create_indexes([IndexModel([("email", 1), ("x", 1)], name=bridge)])
    assert all(plan.in_sync for plan in await plan_indexes(db))
    await apply_index_plan(db, await plan_indexes(db))
    assert bridge not in await db["users"].index_information()


async def test_duplicates_block_a_unique_index_and_nothing_is_built(db):
    await db["users"].drop_index("email_unique")
    await db["tasks"].drop_index("user_created")
    now = datetime.now(UTC)
    ids = (await db["users"].insert_many([
        {"email": "same@example.com", "name": n, "created_at": now, "updated_at": now}
        for n in ("a", "b")
    ])).inserted_ids

    with pytest.raises(DuplicateKeys) as raised:
        await apply_index_plan(db, await plan_indexes(db))
    [duplicate] = raised.value.duplicates
    assert duplicate["index"] == "email_unique"
    assert duplicate["value"] == {"email": "same@example.com"}
    assert sorted(duplicate["ids"]) == sorted(str(i) for i in ids)
    assert "user_created" not in await db["tasks"].index_information()


async def test_the_database_refuses_malformed_direct_inserts(db):
    now = datetime.now(UTC)
    good = {"conversation_id": ObjectId(), "user_id": ObjectId(), "seq": 1, "role": "user",
            "content": "x", "timestamp": now, "metadata": {}, "created_at": now,
            "updated_at": now}
    await db["messages"].insert_one(dict(good))
    for bad in ({k: v for k, v in good.items() if k != "conversation_id"},
                {**good, "role": "robot"},
                {**good, "created_at": "2026-01-01T00:00:00Z"},
                {**good, "seq": "1"},
                {**good, "metadata": {"note": "x" * 513}},
                {**good, "metadata": {"count": 3}}):
        with pytest.raises(WriteError) as raised:
            await db["messages"].insert_one(bad)
        assert raised.value.code == 121
    assert await db["messages"].count_documents({}) == 1


async def test_validators_are_in_place_and_applying_again_changes_nothing(db):
    options = {c["name"]: c["options"] async for c in await db.list_collections()}
    assert options["messages"]["validationLevel"] == "moderate"
    assert options["messages"]["validationAction"] == "error"
    assert await migrate(db) == []


async def test_backfill_repairs_legacy_timestamps_once(db):
    legacy = db["tasks"].with_options()  # plain collection: legacy writers bypassed convostore
    old_id = ObjectId.from_datetime(datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC))
    documents = [
        {"_id": old_id, "user_id": ObjectId(), "title": "no stamps"},
        {"user_id": ObjectId(), "title": "strings", "created_at": "2021-02-03T04:05:06.789123Z",
         "updated_at": "2021-02-03T05:05:06+01:00"},
        {"user_id": ObjectId(), "title": "no updated_at",
         "created_at": datetime(2022, 1, 1, tzinfo=UTC)},
    ]
    await legacy.insert_many(documents, bypass_document_validation=True)
    message_id = (await db["messages"].insert_one(
        {"conversation_id": ObjectId(), "user_id": ObjectId(), "seq": 1, "role": "user",
         "content": "x", "timestamp": "2019-09-09T09:09:09Z"},
        bypass_document_validation=True)).inserted_id
    before = await db["tasks"].find({}, sort=[("title", 1)]).to_list()

    dry = {s.collection: s for s in await backfill_timestamps(db, dry_run=True)}
    assert (dry["tasks"].needing_repair, dry["messages"].needing_repair) == (3, 1)
    assert await db["tasks"].find({}, sort=[("title", 1)]).to_list() == before

    done = {s.collection: s for s in await backfill_timestamps(db)}
    assert (done["tasks"].repaired, done["messages"].repaired) == (3, 1)
    by_title = {t["title"]: t async for t in db["tasks"].find({})}
    assert by_title["no stamps"]["created_at"] == datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert by_title["no stamps"]["updated_at"] == by_title["no stamps"]["created_at"]
    assert by_title["strings"]["created_at"] == datetime(2021, 2, 3, 4, 5, 6, 789000,
                                                         tzinfo=UTC)
    assert by_title["strings"]["updated_at"] == datetime(2021, 2, 3, 4, 5, 6, 789000,
                                                         tzinfo=UTC)
    assert by_title["no updated_at"]["updated_at"] == datetime(2022, 1, 1, tzinfo=UTC)
    message = await db["messages"].find_one({"_id": message_id})
    assert message["created_at"] == datetime(2019, 9, 9, 9, 9, 9, tzinfo=UTC)

    again = await backfill_timestamps(db)
    assert sum(s.needing_repair + s.repaired for s in again) == 0


async def test_readyz_reports_drift_on_a_database_it_does_not_migrate(client, db):
    assert "drift" not in check(await client.get("/readyz"), 200)
    await db["tasks"].drop_index("user_created")
    ready = check(await client.get("/readyz"), 200)
    assert ready["drift"]["indexes"][0]["missing"][0]["name"] == "user_created"


@pytest.mark.skipif(bool(os.environ.get("CONVOSTORE_TEST_MONGODB_URI")),
                    reason="restarts an embedded server with authentication on")
async def test_an_analyst_can_read_and_cannot_write(tmp_path):
    from pymongo import AsyncMongoClient

    server = EmbeddedServer(tmp_path).start()
    try:
        client = AsyncMongoClient(server.uri)
        await client.convostore.tasks.insert_one({"title": "visible"})
        password = await create_analyst(client.convostore, "ana")
        await client.close()
    finally:
        server.stop()

    secured = EmbeddedServer(tmp_path, auth=True).start()
    try:
        uri = analyst_uri(secured.uri, "convostore", "ana", password)
        with MongoClient(uri, serverSelectionTimeoutMS=5000) as analyst:
            database = analyst.convostore
            assert database.tasks.find_one()["title"] == "visible"
            assert "tasks" in database.list_collection_names()
            assert database.command("collStats", "tasks")["count"] == 1
            writes = [
                lambda: database.tasks.insert_one({"title": "x"}),
                lambda: database.tasks.update_one({}, {"$set": {"title": "x"}}),
                lambda: database.tasks.delete_many({}),
                lambda: database.tasks.create_index("title"),
                lambda: database.drop_collection("tasks"),
            ]
            for write in writes:
                with pytest.raises(OperationFailure) as raised:
                    write()
                assert raised.value.code == 13
            assert database.tasks.count_documents({}) == 1
    finally:
        secured.stop()
