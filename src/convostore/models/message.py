from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from convostore.models.base import TimestampedDocument, timestamp_indexes
from convostore.models.fields import ClientTime, Metadata, Text


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class Message(TimestampedDocument):
    """One message of a conversation, at 1-based position `seq`.

    `timestamp` is when the message was sent, as its sender says (the original time of an
    imported message); `created_at` is when convostore stored it.
    """

    conversation_id: PydanticObjectId
    user_id: PydanticObjectId  # always the conversation owner's id
    seq: int
    role: Role
    content: Text
    timestamp: ClientTime
    metadata: Metadata = Field(default_factory=dict)

    class Settings:
        name = "messages"
        indexes = [
            *timestamp_indexes(),
            IndexModel(
                [("conversation_id", ASCENDING), ("seq", ASCENDING)],
                name="conversation_seq_unique",
                unique=True,
            ),
            IndexModel([("user_id", ASCENDING), ("created_at", ASCENDING)], name="user_created"),
        ]
