"""ETags and `If-Match` for optimistic concurrency on tasks.

A task's ETag is a hash of its JSON representation, so any change to any field, including
`updated_at`, gives a new one. A PUT or PATCH with `If-Match` applies only if the task is
still exactly the state that ETag was computed from; otherwise it answers 412 and changes
nothing. `If-Match: *` matches any existing task.
"""

import hashlib
from typing import Annotated

from fastapi import Header
from pydantic import BaseModel

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", max_length=1024,
           description="Apply only if the task's current ETag is one of these."),
]


def etag_of(representation: BaseModel) -> str:
    digest = hashlib.sha256(representation.model_dump_json().encode()).hexdigest()
    return f'"{digest[:32]}"'


def if_match_allows(if_match: str, current_etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    return "*" in tags or current_etag in tags
