"""Erasing a conversation, or a user, with everything that belongs to it."""

from bson import ObjectId

from convostore.errors import NotFound
from convostore.models import Conversation, IdempotencyKey, Message, Task, User
from convostore.models.base import ID_INDEX
from convostore.models.conversation import CONVERSATIONS_BY_USER
from convostore.models.idempotency_key import KEYS_BY_USER
from convostore.models.message import MESSAGES_BY_CONVERSATION, MESSAGES_BY_USER
from convostore.models.task import TASKS_BY_USER


async def erase_conversation(conversation_id: ObjectId, user_id: ObjectId) -> None:
    deleted = await Conversation.get_pymongo_collection().find_one_and_delete(
        {"_id": conversation_id, "user_id": user_id}, projection={"_id": True}, hint=ID_INDEX
    )
    if deleted is None:
        raise NotFound("conversation")
    # Known gap: an append that claimed its seq just before the delete can still insert its
    # messages after this line, leaving them without a conversation; nothing sweeps them yet.
    await Message.get_pymongo_collection().delete_many(
        {"conversation_id": conversation_id, "user_id": user_id}, hint=MESSAGES_BY_CONVERSATION
    )


async def erase_user(user_id: ObjectId) -> None:
    """Delete the user's data, then the user: a failure part-way leaves a retryable state."""
    owned = {"user_id": user_id}
    await Message.get_pymongo_collection().delete_many(owned, hint=MESSAGES_BY_USER)
    await Conversation.get_pymongo_collection().delete_many(owned, hint=CONVERSATIONS_BY_USER)
    await Task.get_pymongo_collection().delete_many(owned, hint=TASKS_BY_USER)
    await IdempotencyKey.get_pymongo_collection().delete_many(owned, hint=KEYS_BY_USER)
    await User.get_pymongo_collection().delete_one({"_id": user_id})
