from datetime import datetime

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from convostore.models.base import TimestampedDocument, timestamp_indexes


class IdempotencyKey(TimestampedDocument):
    """A claimed `Idempotency-Key`: which messages the first request with it creates.

    The claim is stored before the messages are, so a retry can tell "done" (the messages
    exist) from "in progress" (they do not yet). MongoDB's TTL monitor removes it at
    `expires_at`; after that the same key starts a new request.
    """

    user_id: PydanticObjectId
    key: str
    conversation_id: PydanticObjectId
    request_hash: str
    message_ids: list[PydanticObjectId]
    # Set once the messages are stored: a retry then knows they were not merely in progress.
    completed: bool = False
    expires_at: datetime

    class Settings:
        name = "idempotency_keys"
        indexes = [
            *timestamp_indexes(),
            IndexModel([("user_id", ASCENDING), ("key", ASCENDING)], name="user_key_unique",
                       unique=True),
            IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
        ]
