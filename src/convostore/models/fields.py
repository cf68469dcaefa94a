"""Field types shared by the stored documents and the API schemas."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

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


Text = Annotated[str, AfterValidator(_require_encodable)]

# Keys become field names inside the stored document: no leading "$", no dots, no NUL.
_METADATA_KEY = re.compile(r"^[^$.\x00][^.\x00]*$")

MetadataKey = Annotated[
    Text,
    StringConstraints(
        min_length=1, max_length=METADATA_KEY_MAX_LENGTH, pattern=_METADATA_KEY.pattern
    ),
]
MetadataValue = Annotated[Text, StringConstraints(max_length=METADATA_VALUE_MAX_LENGTH)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=METADATA_MAX_KEYS)]
