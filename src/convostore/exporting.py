"""Exporting a user's conversations as the JSONL that `convostore import` reads.

It streams: one conversation's messages at a time are read and written, so memory stays
flat however many messages the user has.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from convostore.models import Conversation, Message
from convostore.schemas.common import format_datetime


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def export_chunks(user_id: ObjectId) -> AsyncIterator[str]:
    """The user's conversations as JSONL, a line each, oldest activity first, in pieces."""
    conversations = Conversation.get_pymongo_collection().find(
        {"user_id": user_id},
        projection={"title": True, "metadata": True},
        sort=[("updated_at", ASCENDING), ("_id", ASCENDING)],
    )
    messages = Message.get_pymongo_collection()
    async for conversation in conversations:
        head = {"title": conversation.get("title"), "metadata": conversation.get("metadata", {})}
        yield _json(head)[:-1] + ',"messages":['

        cursor = messages.find(
            {"conversation_id": conversation["_id"]},
            projection={"role": True, "content": True, "timestamp": True, "metadata": True},
            sort=[("seq", ASCENDING)],
        )
        first = True
        async for message in cursor:
            yield ("" if first else ",") + _json({
                "role": message["role"],
                "content": message["content"],
                "timestamp": format_datetime(message["timestamp"]),
                "metadata": message.get("metadata", {}),
            })
            first = False
        yield "]}\n"
