"""Building blocks of every request and response body."""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from beanie import PydanticObjectId
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

_NO_OFFSET = timedelta(0)

# Fields only the server writes. In a request body they are refused by name.
SERVER_OWNED_FIELDS = frozenset({
    "id", "_id", "user_id", "conversation_id", "seq", "created_at", "updated_at",
    "message_count", "last_message_at", "last_seq",
})


def format_datetime(value: datetime) -> str:
    """RFC 3339, UTC, milliseconds and `Z`: 2026-12-03T18:07:30.568Z."""
    # This runs three times for every message of every page, so stored values (already UTC,
    # the client being tz_aware) skip the conversion. isoformat truncates to milliseconds as
    # MongoDB does, and unlike strftime("%Y") always writes four-digit years ("0999-...").
    if value.tzinfo is None:
        return value.isoformat(timespec="milliseconds") + "Z"
    if value.utcoffset() != _NO_OFFSET:
        value = value.astimezone(UTC)
    # Drop the "+00:00" that an aware value's isoformat ends with.
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


UTCDateTime = Annotated[datetime, PlainSerializer(format_datetime, return_type=str)]
Id = Annotated[PydanticObjectId, PlainSerializer(str, return_type=str)]


_HEX_ID = re.compile(r"[0-9a-fA-F]{24}")


def _require_hex_id(value: Any) -> Any:
    # Said here so that a client reads what an id looks like, not the name of Beanie's type.
    if isinstance(value, str) and not _HEX_ID.fullmatch(value):
        raise ValueError("must be an id: 24 hexadecimal digits")
    return value


# An id in a path.
PathId = Annotated[PydanticObjectId, BeforeValidator(_require_hex_id)]


class RequestBody(BaseModel):
    """A request body: unknown fields and server-owned fields are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_server_owned(cls, data: Any) -> Any:
        sent = sorted(SERVER_OWNED_FIELDS.intersection(data)) if isinstance(data, dict) else []
        if sent:
            names = ", ".join(f"'{field}'" for field in sent)
            raise ValueError(f"{names} {'is' if len(sent) == 1 else 'are'} set by the server "
                             "and cannot be sent")
        return data


class PartialUpdate(RequestBody):
    """A PATCH body: only the fields sent change. `null` is refused for `not_nullable` fields."""

    not_nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Self:
        for field in self.not_nullable:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"'{field}' cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as they are stored."""
        return self.model_dump(include=self.model_fields_set)


class PublicDocument(BaseModel):
    """A stored document as the API returns it: `_id` becomes `id`."""

    # Raw MongoDB documents carry `_id`, Beanie documents `.id`: both are accepted.
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)

    id: Id = Field(validation_alias="_id")
    created_at: UTCDateTime
    updated_at: UTCDateTime


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list. Pass `next_cursor` back as `cursor` for the next page."""

    data: list[ItemT]
    has_more: bool
    next_cursor: str | None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """The one shape of every error response."""

    error: ErrorDetail
