"""The worked examples of docs/data-model.md, as functions over a pymongo Database.

Each returns plain rows (dicts) so that `scripts/analytics_examples.py` can print them and
the tests can check them against counts computed in Python.
"""

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database


def messages_per_day(db: Database) -> list[dict[str, Any]]:
    """Messages by the UTC day they were sent (`timestamp`)."""
    pipeline = [
        {"$group": {
            "_id": {"$dateToString": {"format": "%Y-%m-%d", "date": "$timestamp"}},
            "messages": {"$sum": 1},
        }},
        {"$sort": {"_id": 1}},
    ]
    return [{"day": row["_id"], "messages": row["messages"]}
            for row in db.messages.aggregate(pipeline)]


def conversations_per_user(db: Database) -> list[dict[str, Any]]:
    """How many conversations each user has, with their email, most first."""
    pipeline = [
        {"$group": {"_id": "$user_id", "conversations": {"$sum": 1}}},
        {"$lookup": {"from": "users", "localField": "_id", "foreignField": "_id",
                     "as": "user"}},
        {"$sort": {"conversations": -1, "_id": 1}},
    ]
    return [
        {"user_id": str(row["_id"]),
         "email": row["user"][0]["email"] if row["user"] else None,
         "conversations": row["conversations"]}
        for row in db.conversations.aggregate(pipeline)
    ]


def median_conversation_length(db: Database) -> float | None:
    """The exact median of `message_count` over all conversations."""
    count = db.conversations.count_documents({})
    if count == 0:
        return None
    middle = db.conversations.find({}, {"message_count": True}).sort(
        [("message_count", 1), ("_id", 1)]
    ).skip((count - 1) // 2).limit(2 - count % 2)
    values = [row["message_count"] for row in middle]
    return sum(values) / len(values)


def role_shares(db: Database) -> list[dict[str, Any]]:
    """Each role's number and share of all messages."""
    rows = list(db.messages.aggregate([
        {"$group": {"_id": "$role", "messages": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]))
    total = sum(row["messages"] for row in rows)
    return [{"role": row["_id"], "messages": row["messages"],
             "share": row["messages"] / total} for row in rows]


def users_active_since(db: Database, since: datetime) -> list[dict[str, Any]]:
    """Users who sent or received a message at or after `since`, with how many."""
    pipeline = [
        {"$match": {"timestamp": {"$gte": since}}},
        {"$group": {"_id": "$user_id", "messages": {"$sum": 1}}},
        {"$lookup": {"from": "users", "localField": "_id", "foreignField": "_id",
                     "as": "user"}},
        {"$sort": {"messages": -1, "_id": 1}},
    ]
    return [
        {"user_id": str(row["_id"]),
         "email": row["user"][0]["email"] if row["user"] else None,
         "messages": row["messages"]}
        for row in db.messages.aggregate(pipeline)
    ]


def conversation_text(db: Database, conversation_id: ObjectId) -> list[dict[str, Any]]:
    """One conversation's messages in order."""
    cursor = db.messages.find(
        {"conversation_id": conversation_id},
        {"seq": True, "role": True, "timestamp": True, "content": True, "_id": False},
    ).sort("seq", 1)
    return list(cursor)
