"""Reading and changing one document of the caller's: every access is scoped to its owner.

Another user's document answers exactly like a missing one (404), so ids reveal nothing.
Writes are `update_one`/`delete_one` with the owner in the filter, never findAndModify: the
embedded server answers findAndModify by scanning the whole collection.
"""

from typing import Any, TypeVar

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


async def set_fields(
    model: type[DocumentT], query: dict[str, Any], what: str, changes: dict[str, Any],
) -> DocumentT:
    """`$set` the changes on the document matching `query` (which names its `_id`).

    Returns the document as stored afterwards; NotFound when nothing matched.
    """
    if changes:
        result = await model.get_pymongo_collection().update_one(query, {"$set": changes})
        if result.matched_count == 0:
            raise NotFound(what)
        query = {"_id": query["_id"]}
    found = await model.find_one(query)
    if found is None:  # deleted in the meantime, or never there
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
    return await set_fields(model, {**scope, "user_id": user_id}, what, changes)


async def delete_owned(
    model: type[DocumentT], user_id: ObjectId, what: str, **scope: ObjectId
) -> None:
    """Delete the owner's document matching `scope`, else NotFound."""
    result = await model.get_pymongo_collection().delete_one({**scope, "user_id": user_id})
    if result.deleted_count == 0:
        raise NotFound(what)
