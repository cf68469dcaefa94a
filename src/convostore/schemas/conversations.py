from pydantic import Field

from convostore.models.conversation import ConversationTitle
from convostore.models.fields import Metadata
from convostore.schemas.common import (
    Id,
    Page,
    PartialUpdate,
    PublicDocument,
    RequestBody,
    UTCDateTime,
)


class ConversationCreate(RequestBody):
    title: ConversationTitle | None = None
    metadata: Metadata = Field(default_factory=dict)


class ConversationUpdate(PartialUpdate):
    """PATCH: only the fields sent change; `metadata` replaces the whole map."""

    not_nullable = ("metadata",)

    title: ConversationTitle | None = None
    metadata: Metadata | None = None


class ConversationPublic(PublicDocument):
    user_id: Id
    title: str | None
    metadata: dict[str, str]
    message_count: int
    last_message_at: UTCDateTime | None


ConversationsPage = Page[ConversationPublic]
