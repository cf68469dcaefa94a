"""created_at and updated_at on every write path, checked on the raw stored document."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from beanie import BulkWriter
from beanie.odm.operators.update.general import Inc, Set
from bson import ObjectId
from pymongo import InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from convostore.models import Task
from convostore.timestamps import to_utc_ms

OLD = datetime(2001, 1, 1, tzinfo=UTC)
OLD_ID = ObjectId()


def raw_task(title: str, **fields) -> dict:
    """A task as a driver-level caller writes it: every field but the stamps."""
    return {"user_id": OLD_ID, "title": title, "description": "", "completed": False,
            "due_at": None, **fields}


async def stored(db: AsyncDatabase, task_id) -> dict:
    document = await db["tasks"].find_one({"_id": task_id})
    assert document is not None
    return document


def assert_ms_utc(value: datetime) -> None:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert value.microsecond % 1000 == 0


async def inserted_task(db: AsyncDatabase, title: str = "t") -> tuple[Task, dict]:
    task = Task(user_id=OLD_ID, title=title)
    await task.insert()
    # Let the clock move on, so a write that forgets updated_at is caught.
    await asyncio.sleep(0.005)
    return task, await stored(db, task.id)





def assert_updated(before: dict, after: dict) -> None:
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]
    assert_ms_utc(after["updated_at"])


async def test_insert_stamps_both_from_one_reading(db):
    task = Task(user_id=OLD_ID, title="t", created_at=OLD, updated_at=OLD)
    await task.insert()

    raw = await stored(db, task.id)
    assert raw["created_at"] == raw["updated_at"] == task.created_at == task.updated_at
    assert raw["created_at"] > OLD
    assert_ms_utc(raw["created_at"])


async def test_values_in_memory_stored_and_read_back_are_equal(db):
    task = Task(user_id=OLD_ID, title="t")
    await task.insert()

    read_back = await Task.get(task.id)
    raw = await stored(db, task.id)
    assert task.created_at == raw["created_at"] == read_back.created_at
    assert read_back.created_at.tzinfo is not None


async def test_save_of_a_new_document(db):
    task = Task(user_id=OLD_ID, title="t", created_at=OLD, updated_at=OLD)
    await task.save()

    raw = await stored(db, task.id)
    assert raw["updated_at"] > OLD
    assert raw["updated_at"] == task.updated_at


async def test_save_of_an_existing_document(db):
    task, before = await inserted_task(db)
    task.title = "changed"
    task.created_at = OLD
    await task.save()

    after = await stored(db, task.id)
    assert_updated(before, after)
    assert task.updated_at == after["updated_at"]
    assert task.created_at == before["created_at"]


async def test_replace(db):
    task, before = await inserted_task(db)
    task.title = "replaced"
    task.created_at = OLD
    await task.replace()

    after = await stored(db, task.id)
    assert_updated(before, after)
    assert after["title"] == "replaced"
    assert task.updated_at == after["updated_at"]


@pytest.mark.parametrize(
    "change",
    [
        lambda task: task.set({Task.title: "set"}),
        lambda task: task.update(Set({Task.completed: True})),
        lambda task: task.inc({"__extra": 1}),
        lambda task: task.update({"$set": {"created_at": OLD, "updated_at": OLD}}),
    ],
    ids=["set", "update", "inc", "update-that-tries-to-set-stamps"],
)
async def test_document_updates(db, change):
    task, before = await inserted_task(db)
    await change(task)

    after = await stored(db, task.id)
    assert_updated(before, after)
    assert task.updated_at == after["updated_at"]


async def test_query_level_update_many(db):
    first, before_first = await inserted_task(db, "a")
    second, before_second = await inserted_task(db, "a")
    await Task.find(Task.title == "a").update(Set({Task.completed: True}))

    assert_updated(before_first, await stored(db, first.id))
    assert_updated(before_second, await stored(db, second.id))


async def test_query_level_update_one_and_update_all(db):
    task, before = await inserted_task(db)
    await Task.find_one(Task.id == task.id).update(Inc({"__n": 1}))
    middle = await stored(db, task.id)
    assert_updated(before, middle)

    await asyncio.sleep(0.005)
    await Task.update_all({"$set": {"created_at": OLD, "completed": True}})
    assert_updated(middle, await stored(db, task.id))


async def test_query_level_upsert_fills_created_at(db):
    task_id = ObjectId()
    await Task.find_one(Task.id == task_id).upsert(
        Set({Task.title: "up"}),
        on_insert=Task(id=task_id, user_id=OLD_ID, title="up"),
    )
    raw = await stored(db, task_id)
    assert_ms_utc(raw["created_at"])
    assert raw["updated_at"] >= raw["created_at"]


async def test_bulk_insert(db):
    tasks = [Task(user_id=OLD_ID, title=f"t{n}", created_at=OLD) for n in range(3)]
    await Task.insert_many(tasks)

    raws = await db["tasks"].find({}).to_list()
    assert len(raws) == 3
    for raw in raws:
        assert raw["created_at"] == raw["updated_at"] > OLD
    assert {t.created_at for t in tasks} == {raws[0]["created_at"]}


async def test_beanie_bulk_writer(db):
    task, before = await inserted_task(db)
    fresh = Task(user_id=OLD_ID, title="bulk")
    async with BulkWriter() as bulk:
        await Task.find_one(Task.id == task.id).update(
            Set({Task.completed: True}), bulk_writer=bulk
        )
        await Task.insert_one(fresh, bulk_writer=bulk)

    assert_updated(before, await stored(db, task.id))
    raw_fresh = await db["tasks"].find_one({"title": "bulk"})
    assert raw_fresh["created_at"] == raw_fresh["updated_at"]
    assert raw_fresh["created_at"] > OLD


async def test_driver_level_writes_through_the_model_collection(db):
    collection = Task.get_pymongo_collection()
    result = await collection.insert_one(raw_task("raw", created_at=OLD))
    before = await stored(db, result.inserted_id)
    assert before["created_at"] == before["updated_at"] > OLD

    await asyncio.sleep(0.005)
    await collection.update_one({"_id": result.inserted_id}, {"$set": {"title": "u1"}})
    middle = await stored(db, result.inserted_id)
    assert_updated(before, middle)

    await asyncio.sleep(0.005)
    await collection.replace_one(
        {"_id": result.inserted_id},
        raw_task("$not-an-expression", created_at=OLD),
    )
    after = await stored(db, result.inserted_id)
    assert_updated(middle, after)
    assert after["title"] == "$not-an-expression"

    await asyncio.sleep(0.005)
    await collection.find_one_and_update({"_id": result.inserted_id}, {"$unset": {"created_at": 1}})
    assert_updated(after, await stored(db, result.inserted_id))


async def test_driver_bulk_write(db):
    first, before_first = await inserted_task(db, "a")
    second, before_second = await inserted_task(db, "b")
    await Task.get_pymongo_collection().bulk_write([
        InsertOne(raw_task("new")),
        UpdateOne({"_id": first.id}, {"$set": {"completed": True}}),
        UpdateMany({"title": "b"}, {"$set": {"completed": True}}),
        ReplaceOne({"_id": first.id}, raw_task("again")),
    ])

    assert_updated(before_first, await stored(db, first.id))
    assert_updated(before_second, await stored(db, second.id))
    new = await db["tasks"].find_one({"title": "new"})
    assert new["created_at"] == new["updated_at"]


async def test_pipeline_update_sets_updated_at_and_refuses_to_touch_created_at(db):
    task, before = await inserted_task(db)
    collection = Task.get_pymongo_collection()
    await collection.update_one({"_id": task.id}, [{"$set": {"title": "piped"}}])
    assert_updated(before, await stored(db, task.id))

    with pytest.raises(ValueError, match="created_at"):
        await collection.update_one({"_id": task.id}, [{"$set": {"created_at": OLD}}])


async def test_updated_at_never_moves_back(db):
    task, _ = await inserted_task(db)
    later = datetime.now(UTC) + timedelta(hours=1)
    await Task.get_pymongo_collection().unstamped.update_one(
        {"_id": task.id}, {"$set": {"updated_at": later}}
    )
    # A write that read the clock before another one landed must not undo it.
    await Task.find_one(Task.id == task.id).update(Set({Task.title: "late"}))
    await Task.get_pymongo_collection().replace_one({"_id": task.id}, raw_task("late again"))
    assert (await stored(db, task.id))["updated_at"] == to_utc_ms(later)


def test_to_utc_ms_truncates_and_converts():
    value = datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=UTC)
    assert to_utc_ms(value).microsecond == 678000
    naive = datetime(2026, 1, 2, 3, 4, 5, 1999)
    assert to_utc_ms(naive) == datetime(2026, 1, 2, 3, 4, 5, 1000, tzinfo=UTC)
    offset = datetime.fromisoformat("2026-01-02T05:00:00+02:00")
    assert to_utc_ms(offset) == datetime(2026, 1, 2, 3, tzinfo=UTC)
