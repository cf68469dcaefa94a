"""Field types shared by the stored documents and the API schemas."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from convostore.timestamps import to_utc_ms

METADATA_MAX_KEYS = 16
METADATA_KEY_MAX_LENGTH = 64
METADATA_VALUE_MAX_LENGTH = 512


def _require_encodable(value: str) -> str:
    # JSON can carry a lone UTF-16 surrogate ("\ud800"); BSON (UTF-8) cannot store it.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (it holds a lone surrogate)") from None
    return value


def text(**constraints: Any) -> Any:
    """A text type: `StringConstraints(**constraints)`, and storable in BSON.

    The constraints come before the validator: after one, pydantic checks lengths as a
    sequence's ("at least 1 item") and leaves `pattern` out of the JSON schema.
    """
    return Annotated[str, StringConstraints(**constraints), AfterValidator(_require_encodable)]


Text = text()

# Keys become field names inside the stored document: no leading "$", no dots, no NUL.
_METADATA_KEY = re.compile(r"^[^$.\x00][^.\x00]*$")

MetadataKey = text(min_length=1, max_length=METADATA_KEY_MAX_LENGTH,
                   pattern=_METADATA_KEY.pattern)
MetadataValue = text(max_length=METADATA_VALUE_MAX_LENGTH)
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=METADATA_MAX_KEYS)]


def _refuse_numbers(value: Any) -> Any:
    # Pydantic would read a number, or a string of digits, as seconds or milliseconds since
    # 1970, guessing which by its size: a silently wrong date for many real values.
    is_number = isinstance(value, int | float)
    if isinstance(value, str):
        try:
            float(value)
            is_number = True
        except ValueError:
            pass
    if is_number:
        raise ValueError("give the time as an RFC 3339 string such as 2026-12-03T18:07:30.568Z")
    return value


# A time a client sends (a message's `timestamp`, a task's `due_at`): RFC 3339 text only,
# stored as UTC milliseconds. An offset-less time is taken as UTC.
ClientTime = Annotated[datetime, BeforeValidator(_refuse_numbers), AfterValidator(to_utc_ms)]
