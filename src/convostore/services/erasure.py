"""Erasing a conversation, or a user, with everything that belongs to it."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bson import ObjectId
from pymongo.errors import PyMongoError

from convostore.models import Conversation, IdempotencyKey, Message, Task, User
from convostore.services.owned import delete_owned

logger = logging.getLogger(__name__)

# What a late sweep runs again: erase_user_data or erase_conversation_messages.
Erasure = Callable[[ObjectId], Awaitable[None]]


async def erase_conversation(conversation_id: ObjectId, user_id: ObjectId) -> None:
    """Delete the user's conversation, then its messages.

    An append that claimed its seq just before the delete can still insert its messages
    after it: call `erase_conversation_messages` again once such requests have finished.
    """
    await delete_owned(Conversation, user_id, "conversation", _id=conversation_id)
    await erase_conversation_messages(conversation_id)


async def erase_conversation_messages(conversation_id: ObjectId) -> None:
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
    """Erases once more, after the requests in flight have finished, what was erased.

    A request that was already under way (authenticated before a user's erasure, or past
    its seq claim before a conversation's) can still write after it. Each erasure scheduled
    here runs again `delay_seconds` later; `flush` runs the pending ones at once (at
    shutdown, when no request is left running).
    """

    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self._pending: dict[ObjectId, tuple[asyncio.Task[None], Erasure]] = {}

    def schedule(self, erased_id: ObjectId, erase: Erasure) -> None:
        """Run `erase(erased_id)` again later: a user's data, or a conversation's messages."""
        task = asyncio.create_task(self._sweep_later(erased_id, erase))
        self._pending[erased_id] = (task, erase)
        task.add_done_callback(lambda _: self._pending.pop(erased_id, None))

    async def _sweep_later(self, erased_id: ObjectId, erase: Erasure) -> None:
        # Known gap: a request slower than `delay_seconds` can still leave data behind.
        await asyncio.sleep(self.delay_seconds)
        await self._sweep(erased_id, erase)

    async def _sweep(self, erased_id: ObjectId, erase: Erasure) -> None:
        try:
            await erase(erased_id)
        except PyMongoError:
            logger.warning("could not sweep what was left of erased %s", erased_id)

    async def flush(self) -> None:
        pending = list(self._pending.items())
        for erased_id, (task, erase) in pending:
            task.cancel()
            await self._sweep(erased_id, erase)
