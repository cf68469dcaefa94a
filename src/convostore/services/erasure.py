"""Erasing a conversation, or a user, with everything that belongs to it."""

import asyncio
import logging

from bson import ObjectId
from pymongo.errors import PyMongoError

from convostore.models import Conversation, IdempotencyKey, Message, Task, User
from convostore.services.owned import delete_owned

logger = logging.getLogger(__name__)


async def erase_conversation(conversation_id: ObjectId, user_id: ObjectId) -> None:
    """Delete the user's conversation, then its messages."""
    await delete_owned(Conversation, user_id, "conversation", _id=conversation_id)
    # Known gap: an append that claimed its seq just before the delete can still insert its
    # messages after this line, leaving them without a conversation; nothing sweeps them yet.
    await Message.get_pymongo_collection().delete_many({"conversation_id": conversation_id})


async def erase_user(user_id: ObjectId) -> None:
    """Delete the user, then everything the user owns.

    The user goes first, so that from then on every token of theirs is refused. A request
    that was authenticated just before can still write afterwards: call
    `erase_user_data` again once such requests have finished.
    """
    await User.get_pymongo_collection().delete_one({"_id": user_id})
    await erase_user_data(user_id)


async def erase_user_data(user_id: ObjectId) -> None:
    owned = {"user_id": user_id}
    await Message.get_pymongo_collection().delete_many(owned)
    await Conversation.get_pymongo_collection().delete_many(owned)
    await Task.get_pymongo_collection().delete_many(owned)
    await IdempotencyKey.get_pymongo_collection().delete_many(owned)


class LateDataSweeper:
    """Sweeps an erased user's data once more, after the requests in flight have finished.

    A request authenticated just before the erasure can still write after it. Each erased
    user gets a second sweep `delay_seconds` later; `flush` runs the pending ones at once
    (at shutdown, when no request is left running).
    """

    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self._pending: dict[ObjectId, asyncio.Task[None]] = {}

    def schedule(self, user_id: ObjectId) -> None:
        task = asyncio.create_task(self._sweep_later(user_id))
        self._pending[user_id] = task
        task.add_done_callback(lambda _: self._pending.pop(user_id, None))

    async def _sweep_later(self, user_id: ObjectId) -> None:
        # Known gap: a request slower than `delay_seconds` can still leave data behind.
        await asyncio.sleep(self.delay_seconds)
        await self._sweep(user_id)

    async def _sweep(self, user_id: ObjectId) -> None:
        try:
            await erase_user_data(user_id)
        except PyMongoError:
            logger.warning("could not sweep the data of erased user %s again", user_id)

    async def flush(self) -> None:
        pending = list(self._pending.items())
        for user_id, task in pending:
            task.cancel()
            await self._sweep(user_id)
