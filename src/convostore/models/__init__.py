"""The stored documents, one module each, all stamped by `TimestampedDocument`."""

from convostore.models.base import TimestampedDocument
from convostore.models.conversation import Conversation
from convostore.models.idempotency_key import IdempotencyKey
from convostore.models.message import Message, Role
from convostore.models.migration import Migration
from convostore.models.task import Task
from convostore.models.user import User

DOCUMENT_MODELS: list[type[TimestampedDocument]] = [
    User,
    Task,
    Conversation,
    Message,
    IdempotencyKey,
    Migration,
]

__all__ = [
    "DOCUMENT_MODELS",
    "Conversation",
    "IdempotencyKey",
    "Message",
    "Migration",
    "Role",
    "Task",
    "TimestampedDocument",
    "User",
]
