"""Reading and changing one document of the caller's: every query is scoped to its owner.

Another user's document answers exactly like a missing one (404), so ids reveal nothing.
"""

from typing import Any, TypeVar

from beanie import UpdateResponse
from bson import ObjectId

from convostore.errors import NotFound
from convostore.models import TimestampedDocument
from convostore.models.base import ID_INDEX

DocumentT = TypeVar("DocumentT", bound=TimestampedDocument)


async def find_owned(
    model: type[DocumentT], user_id: ObjectId, what: str, **scope: ObjectId
) -> DocumentT:
    """The owner's document matching `scope` (which includes its `_id`), else NotFound."""
    found = await model.find_one({**scope, "user_id": user_id}, hint=ID_INDEX)
    if found is None:
        raise NotFound(what)
    return found


async def update_owned(
    model: type[DocumentT],
    user_id: ObjectId,
    what: str,
    changes: dict[str, Any],
    **scope: ObjectId,
) -> DocumentT:
    """`$set` the changes on the owner's document and return it as stored afterwards."""
    if not changes:
        return await find_owned(model, user_id, what, **scope)
    updated = await model.find_one({**scope, "user_id": user_id}).update(
        {"$set": changes}, response_type=UpdateResponse.NEW_DOCUMENT, hint=ID_INDEX
    )
    if updated is None:
        raise NotFound(what)
    return updated
