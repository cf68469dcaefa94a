"""Reading a conversation's messages in `seq` order, a page at a time.

A page is read through a bounded `seq` window rather than "everything after the cursor,
sorted, limited". Both give the same messages; the window also keeps the work per page flat
on servers whose planners sort the whole range in memory before applying the limit (such as
the embedded SecantusDB). `seq` is dense except where messages were deleted, so one window
of `limit + 1` numbers usually suffices; a short read widens it.
"""

from typing import Any, Literal

from convostore.models import Conversation, Message

Order = Literal["asc", "desc"]
# seq is a 64-bit integer in MongoDB; a cursor naming a larger one is not ours.
MAX_SEQ = 2**63 - 1
_WIDENING = 4


async def _read(conversation: Conversation, seq_range: dict, order: Order,
                count: int) -> list[dict[str, Any]]:
    # The caller has checked that the conversation is the user's, and a message's user_id is
    # always its conversation's: the filter is exactly the (conversation_id, seq) index.
    query = {"conversation_id": conversation.id, "seq": seq_range}
    direction = 1 if order == "asc" else -1
    # Raw documents: building a Beanie document per message only to serialise it again cost
    # a quarter of the API's CPU on this, its busiest read (profiled with py-spy).
    cursor = Message.get_pymongo_collection().find(query, sort=[("seq", direction)],
                                                    limit=count)
    return await cursor.to_list()


async def messages_after(
    conversation: Conversation, order: Order, after_seq: int | None, count: int
) -> list[dict[str, Any]]:
    """Up to `count` stored messages following `after_seq` (exclusive) in `order`."""
    window = count
    if order == "asc":
        low = after_seq or 0
        while True:
            high = low + window
            # The last window is open-ended, so messages appended meanwhile are not missed.
            if high >= conversation.last_seq:
                return await _read(conversation, {"$gt": low}, order, count)
            found = await _read(conversation, {"$gt": low, "$lte": high}, order, count)
            if len(found) == count:
                return found
            window *= _WIDENING

    high = after_seq if after_seq is not None else conversation.last_seq + 1
    while True:
        low = high - window
        if low <= 1:
            return await _read(conversation, {"$lt": high}, order, count)
        found = await _read(conversation, {"$lt": high, "$gte": low}, order, count)
        if len(found) == count:
            return found
        window *= _WIDENING
