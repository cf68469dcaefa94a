from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from convostore.config import get_settings
from convostore.models.fields import ClientTime, Metadata, Text
from convostore.models.message import Role
from convostore.schemas.common import (
    Id,
    Page,
    PartialUpdate,
    PublicDocument,
    RequestBody,
    UTCDateTime,
)

MAX_BATCH_SIZE = 100


def _within_size_limit(content: str) -> str:
    limit = get_settings().max_message_bytes
    if len(content.encode("utf-8")) > limit:
        raise ValueError(f"content is larger than {limit} bytes of UTF-8")
    return content


MessageContent = Annotated[Text, AfterValidator(_within_size_limit)]


class MessageCreate(RequestBody):
    role: Role
    content: MessageContent
    timestamp: ClientTime | None = Field(
        default=None, description="When the message was sent; defaults to when it is stored."
    )
    metadata: Metadata = Field(default_factory=dict)


class MessageBatchCreate(RequestBody):
    messages: list[MessageCreate] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class MessageUpdate(PartialUpdate):
    """PATCH: only the fields sent change; `metadata` replaces the whole map."""

    not_nullable = ("content", "metadata")

    content: MessageContent | None = None
    metadata: Metadata | None = None


class MessagePublic(PublicDocument):
    conversation_id: Id
    user_id: Id
    seq: int
    role: Role
    content: str
    timestamp: UTCDateTime
    metadata: dict[str, str]


class MessageBatch(BaseModel):
    """The messages one batch request stored, in order."""

    data: list[MessagePublic]


MessagesPage = Page[MessagePublic]
