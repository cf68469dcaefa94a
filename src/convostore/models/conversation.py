from datetime import datetime

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from convostore.models.base import TimestampedDocument, timestamp_indexes
from convostore.models.fields import Metadata, text

ConversationTitle = text(max_length=500)


class Conversation(TimestampedDocument):
    """A conversation of one user with the chatbot; its messages live in `messages`."""

    user_id: PydanticObjectId
    title: ConversationTitle | None = None
    metadata: Metadata = Field(default_factory=dict)
    message_count: int = 0
    last_message_at: datetime | None = None
    # The highest `seq` handed out so far. It only grows, so a deleted message's seq is
    # never reused; message_count, unlike it, goes down on delete.
    last_seq: int = 0

    class Settings:
        name = "conversations"
        # Lists page most recently updated first on (updated_at, _id).
        indexes = [
            *timestamp_indexes(),
            IndexModel(
                [("user_id", ASCENDING), ("updated_at", ASCENDING), ("_id", ASCENDING)],
                name="user_updated",
            ),
        ]
