"""Reading and changing one document of the caller's: every access is scoped to its owner.

Another user's document answers exactly like a missing one (404), so ids reveal nothing.

A write first reads the document with its owner in the filter, then writes it by `_id`
alone. A document's `user_id` never changes and an `_id` is never reused, so the read
settles ownership for the write. (A write filtered on `_id` plus other fields makes the
embedded server scan the whole collection; `_id` alone is a point lookup everywhere.)
"""

from typing import Any, TypeVar

from beanie import UpdateResponse
from bson import ObjectId

from convostore.errors import NotFound
from convostore.models import TimestampedDocument

DocumentT = TypeVar("DocumentT", bound=TimestampedDocument)


async def find_owned(
    model: type[DocumentT], user_id: ObjectId, what: str, **scope: ObjectId
) -> DocumentT:
    """The owner's document matching `scope` (which names its `_id`), else NotFound."""
    found = await model.find_one({**scope, "user_id": user_id})
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
    owned = await find_owned(model, user_id, what, **scope)
    if not changes:
        return owned
    updated = await model.find_one({"_id": owned.id}).update(
        {"$set": changes}, response_type=UpdateResponse.NEW_DOCUMENT
    )
    if updated is None:  # deleted in the meantime
        raise NotFound(what)
    return updated


async def delete_owned(
    model: type[DocumentT], user_id: ObjectId, what: str, **scope: ObjectId
) -> DocumentT:
    """Delete the owner's document matching `scope`; returns it as it was."""
    owned = await find_owned(model, user_id, what, **scope)
    result = await model.get_pymongo_collection().delete_one({"_id": owned.id})
    if result.deleted_count == 0:
        raise NotFound(what)
    return owned
