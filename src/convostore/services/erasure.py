"""Erasing a conversation, or a user, with everything that belongs to it."""

from bson import ObjectId

from convostore.models import Conversation, IdempotencyKey, Message, Task, User
from convostore.services.owned import delete_owned


async def erase_conversation(conversation_id: ObjectId, user_id: ObjectId) -> None:
    """Delete the user's conversation, then its messages."""
    await delete_owned(Conversation, user_id, "conversation", _id=conversation_id)
    # Known gap: an append that claimed its seq just before the delete can still insert its
    # messages after this line, leaving them without a conversation; nothing sweeps them yet.
    await Message.get_pymongo_collection().delete_many({"conversation_id": conversation_id})


async def erase_user(user_id: ObjectId) -> None:
    """Delete the user's data, then the user: a failure part-way leaves a retryable state."""
    owned = {"user_id": user_id}
    await Message.get_pymongo_collection().delete_many(owned)
    await Conversation.get_pymongo_collection().delete_many(owned)
    await Task.get_pymongo_collection().delete_many(owned)
    await IdempotencyKey.get_pymongo_collection().delete_many(owned)
    await User.get_pymongo_collection().delete_one({"_id": user_id})
