"""Appending messages: `seq` from one atomic conditional increment, and safe retries.

Each append reserves its `seq` numbers with one atomic conditional `$inc` on the
conversation, which also moves `message_count`, `last_message_at` and (through the stamped
collection) `updated_at`. The messages are inserted after that. No multi-document
transaction is needed, so this runs on a standalone mongod too.
"""

import asyncio
import hashlib
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import DuplicateKeyError, PyMongoError

from convostore.errors import (
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    IdempotentResultDeleted,
    NotFound,
    TooManyConcurrentAppends,
)
from convostore.models import Conversation, IdempotencyKey, Message, Role
from convostore.services.owned import delete_owned, update_owned
from convostore.timestamps import pinned_write_time, to_utc_ms, utc_now_ms

logger = logging.getLogger(__name__)

# Attempts at reserving seq numbers while other appends to the same conversation win.
MAX_CLAIM_ATTEMPTS = 100
# How long a retry waits for the first request with its key to finish.
IN_PROGRESS_WAIT_SECONDS = 5.0
# A claim whose messages never appeared after this long is taken to be abandoned.
ABANDONED_CLAIM_SECONDS = 30.0


@dataclass
class MessageDraft:
    """A message as a client or an importer hands it over, before it has a `seq`."""

    role: Role
    content: str
    timestamp: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)


async def append_messages(
    conversation_id: ObjectId,
    user_id: ObjectId,
    drafts: list[MessageDraft],
    message_ids: list[ObjectId] | None = None,
    last_seq_hint: int | None = None,
) -> list[dict[str, Any]]:
    """Append `drafts` to the user's conversation, in order, with consecutive `seq`.

    Returns the stored documents. The drafts were validated on the way in (API schemas or
    the importer's), so they are written as documents directly: building a Beanie model per
    message only to dump it again doubled the API's work per append. `last_seq_hint`, the
    conversation's `last_seq` as the caller last saw it, saves reading it when still right.
    """
    with pinned_write_time() as now:
        sent_times = [draft.timestamp or now for draft in drafts]
        first_seq = await _claim_seqs(conversation_id, user_id, len(drafts), max(sent_times),
                                      last_seq_hint)
        ids = message_ids or [ObjectId() for _ in drafts]
        messages = [
            {
                "_id": ids[index],
                "conversation_id": conversation_id,
                "user_id": user_id,
                "seq": first_seq + index,
                "role": Role(draft.role).value,
                "content": draft.content,
                "timestamp": to_utc_ms(sent_times[index]),
                "metadata": draft.metadata,
            }
            for index, draft in enumerate(drafts)
        ]
        try:
            # The stamped collection adds created_at and updated_at (the pinned `now`).
            await Message.get_pymongo_collection().insert_many(messages)
        except PyMongoError:
            await _uncount_missing(conversation_id, ids)
            raise
    return messages


async def _claim_seqs(
    conversation_id: ObjectId,
    user_id: ObjectId,
    count: int,
    newest_sent: datetime,
    last_seq_hint: int | None,
) -> int:
    """Reserve `count` consecutive seq numbers on the user's conversation; returns the first.

    One conditional update does it: `$inc` on `last_seq`, applied only if the conversation is
    the user's and `last_seq` is still the value expected, so two appenders can never get the
    same numbers; the loser reads again and retries. The first try may expect the caller's
    hint instead of reading. (findAndModify would do it in one call, but the embedded server
    answers it by scanning the whole collection.)
    """
    conversations = Conversation.get_pymongo_collection()
    expected = last_seq_hint
    for attempt in range(MAX_CLAIM_ATTEMPTS):
        if expected is None:
            current = await conversations.find_one(
                {"_id": conversation_id, "user_id": user_id}, projection={"last_seq": True}
            )
            if current is None:
                raise NotFound("conversation")
            expected = current["last_seq"]

        claimed = await conversations.update_one(
            {"_id": conversation_id, "user_id": user_id, "last_seq": expected},
            {
                "$inc": {"last_seq": count, "message_count": count},
                "$max": {"last_message_at": newest_sent},
            },
        )
        if claimed.matched_count == 1:
            return expected + 1

        lost_a_race = attempt > 0 or last_seq_hint is None
        expected = None
        if lost_a_race:  # a stale hint is no race: read at once
            await asyncio.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
    raise TooManyConcurrentAppends(
        "too many messages are being appended to this conversation at once; retry"
    )


async def _uncount_missing(conversation_id: ObjectId, ids: list[ObjectId]) -> None:
    """After a failed insert, take the messages that were not stored out of message_count.

    Their `seq` numbers stay unused: a gap, never a repeat.
    """
    try:
        stored = await Message.get_pymongo_collection().count_documents({"_id": {"$in": ids}})
        missing = len(ids) - stored
        if missing:
            await Conversation.get_pymongo_collection().update_one(
                {"_id": conversation_id}, {"$inc": {"message_count": -missing}}
            )
    except PyMongoError:
        # Known gap: with the database gone, the count cannot be corrected here; the
        # conversation's message_count stays too high by the messages that were not stored.
        logger.warning(
            "could not correct message_count of conversation %s after a failed append",
            conversation_id,
        )


def _request_hash(conversation_id: ObjectId, drafts: list[MessageDraft]) -> str:
    payload = [
        str(conversation_id),
        [[d.role, d.content, d.timestamp and d.timestamp.isoformat(), d.metadata] for d in drafts],
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def append_messages_once(
    conversation_id: ObjectId,
    user_id: ObjectId,
    drafts: list[MessageDraft],
    key: str,
    ttl_seconds: int,
    last_seq_hint: int | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Append at most once per `Idempotency-Key`; returns the messages and whether they are new.

    The key is claimed first, with the ids its messages will get. A retry that finds the claim
    returns those messages once they exist, or 409 while the first request is still running.
    """
    request_hash = _request_hash(conversation_id, drafts)
    for _ in range(2):
        claim = IdempotencyKey(
            user_id=user_id,
            key=key,
            conversation_id=conversation_id,
            request_hash=request_hash,
            message_ids=[PydanticObjectId() for _ in drafts],
            expires_at=utc_now_ms() + timedelta(seconds=ttl_seconds),
        )
        try:
            await claim.insert()
        except DuplicateKeyError:
            replayed = await _replay(user_id, key, request_hash)
            if replayed is not None:
                return replayed, False
            continue  # the earlier claim expired or was abandoned: claim again

        try:
            messages = await append_messages(conversation_id, user_id, drafts, claim.message_ids,
                                             last_seq_hint)
        except BaseException:
            # Release the key so that the client's retry can run the request again.
            await asyncio.shield(_release(claim))
            raise
        await IdempotencyKey.get_pymongo_collection().update_one(
            {"_id": claim.id}, {"$set": {"completed": True}}
        )
        return messages, True
    raise IdempotentRequestInProgress("a request with this Idempotency-Key is still running")


async def _release(claim: IdempotencyKey) -> None:
    try:
        await IdempotencyKey.get_pymongo_collection().delete_one({"_id": claim.id})
    except PyMongoError:
        logger.warning("could not release idempotency key claim %s", claim.id)


async def _replay(user_id: ObjectId, key: str,
                  request_hash: str) -> list[dict[str, Any]] | None:
    """The messages of an earlier request with this key, or None if it is gone or abandoned."""
    claim = await IdempotencyKey.find_one({"user_id": user_id, "key": key})
    if claim is None:
        return None
    if claim.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request; use a new key"
        )

    loop = asyncio.get_running_loop()
    deadline = loop.time() + IN_PROGRESS_WAIT_SECONDS
    while True:
        found = await Message.get_pymongo_collection().find(
            {"_id": {"$in": claim.message_ids}, "user_id": user_id}, sort=[("seq", 1)]
        ).to_list()
        if len(found) == len(claim.message_ids):
            return found
        if claim.completed:
            raise IdempotentResultDeleted(
                "what the request with this Idempotency-Key stored has since been deleted"
            )
        if utc_now_ms() - claim.created_at > timedelta(seconds=ABANDONED_CLAIM_SECONDS):
            await IdempotencyKey.get_pymongo_collection().delete_one(
                {"_id": claim.id, "created_at": claim.created_at}
            )
            return None
        if loop.time() > deadline:
            raise IdempotentRequestInProgress(
                "a request with this Idempotency-Key is still running; retry shortly"
            )
        await asyncio.sleep(0.05)

        claim = await IdempotencyKey.find_one({"_id": claim.id})
        if claim is None:  # the first request failed and released the key: run this one
            return None


async def edit_message(
    conversation_id: ObjectId, user_id: ObjectId, message_id: ObjectId, changes: dict[str, Any]
) -> Message:
    """Change the user's message; an edit is activity in its conversation, like an append.

    Both get the same `updated_at`.
    """
    with pinned_write_time():
        message = await update_owned(Message, user_id, "message", changes, _id=message_id,
                                     conversation_id=conversation_id)
        if changes:
            # An update with nothing of its own: the stamped collection moves updated_at.
            await Conversation.get_pymongo_collection().update_one(
                {"_id": conversation_id, "user_id": user_id}, {"$set": {}}
            )
    return message


async def delete_message(
    conversation_id: ObjectId, user_id: ObjectId, message_id: ObjectId
) -> None:
    await delete_owned(Message, user_id, "message", _id=message_id,
                       conversation_id=conversation_id)
    await Conversation.get_pymongo_collection().update_one(
        {"_id": conversation_id}, {"$inc": {"message_count": -1}}
    )


def drafts_from(messages: list[Any]) -> list[MessageDraft]:
    """Drafts from API bodies (or anything with the same attributes)."""
    return [
        MessageDraft(role=m.role, content=m.content, timestamp=m.timestamp, metadata=m.metadata)
        for m in messages
    ]
