"""Reading a conversation's messages in `seq` order, a page at a time.

A page is read through a bounded `seq` window rather than "everything after the cursor,
sorted, limited". Both give the same messages; the window also keeps the work per page flat
on servers whose planners sort the whole range in memory before applying the limit (such as
the embedded SecantusDB). `seq` is dense except where messages were deleted, so one window
of `limit + 1` numbers usually suffices; a short read widens it.
"""

from typing import Any, Literal

from bson import ObjectId

from convostore.models import Message

Order = Literal["asc", "desc"]
# seq is a 64-bit integer in MongoDB; a cursor naming a larger one is not ours.
MAX_SEQ = 2**63 - 1
_WIDENING = 4


async def _read(conversation_id: ObjectId, user_id: ObjectId, seq_range: dict, order: Order,
                count: int) -> list[dict[str, Any]]:
    # A message's user_id is always its conversation's owner, so naming the caller here keeps
    # every other user's messages out whatever the caller believed about the conversation.
    query: dict[str, Any] = {"conversation_id": conversation_id, "user_id": user_id}
    if seq_range:
        query["seq"] = seq_range
    direction = 1 if order == "asc" else -1
    # Raw documents: building a Beanie document per message only to serialise it again cost
    # a quarter of the API's CPU on this, its busiest read (profiled with py-spy).
    cursor = Message.get_pymongo_collection().find(query, sort=[("seq", direction)],
                                                    limit=count)
    return await cursor.to_list()


async def messages_after(
    conversation_id: ObjectId,
    user_id: ObjectId,
    known_last_seq: int,
    order: Order,
    after_seq: int | None,
    count: int,
) -> list[dict[str, Any]]:
    """Up to `count` of the user's messages in the conversation following `after_seq`
    (exclusive) in `order`.

    `known_last_seq` only aims the first window: it may be behind the conversation's real
    `last_seq` (appends raise it), so the window towards the newest messages stays open.
    """
    window = count
    if order == "asc":
        low = after_seq or 0
        while True:
            high = low + window
            # The last window is open-ended, so messages appended meanwhile are not missed.
            if high >= known_last_seq:
                return await _read(conversation_id, user_id, {"$gt": low}, order, count)
            found = await _read(conversation_id, user_id, {"$gt": low, "$lte": high}, order,
                                count)
            if len(found) == count:
                return found
            window *= _WIDENING

    newest_first = {} if after_seq is None else {"$lt": after_seq}
    # No message lies above `known_last_seq` but those appended since, which the open upper
    # end of the window still reads: a cursor past it (crafted, say) starts no higher.
    start = known_last_seq + 1 if after_seq is None else min(after_seq, known_last_seq + 1)
    while True:
        low = start - window
        if low <= 1:
            return await _read(conversation_id, user_id, newest_first, order, count)
        found = await _read(conversation_id, user_id, {**newest_first, "$gte": low}, order,
                            count)
        if len(found) == count:
            return found
        window *= _WIDENING
