"""Keyset paging: a cursor names the last item of a page, never an offset.

A cursor is opaque to clients (URL-safe base64 of a small JSON object). It records which
listing it belongs to, so a cursor from one listing cannot be replayed against another.
"""

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from beanie import Document
from bson import ObjectId
from fastapi import Query
from pymongo import DESCENDING

from convostore.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
CursorParam = Annotated[
    str | None,
    Query(max_length=512, description="The `next_cursor` of the previous page."),
]


class BadCursor(InvalidInput):
    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("the cursor is not valid for this listing; start from the first page")


def encode_cursor(listing: str, position: dict[str, Any]) -> str:
    payload = json.dumps({"l": listing, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise BadCursor() from None
    if not isinstance(position, dict) or position.pop("l", None) != listing:
        raise BadCursor()
    return position


def time_and_id_position(when: datetime, document_id: ObjectId) -> dict[str, Any]:
    """A position in a listing ordered by (a millisecond timestamp, _id)."""
    return {"t": (when - _EPOCH) // _MILLISECOND, "id": str(document_id)}


def time_and_id_from(position: dict[str, Any]) -> tuple[datetime, ObjectId]:
    milliseconds, document_id = position.get("t"), position.get("id")
    if type(milliseconds) is not int or not isinstance(document_id, str):
        raise BadCursor()
    if not ObjectId.is_valid(document_id):
        raise BadCursor()
    try:
        when = _EPOCH + milliseconds * _MILLISECOND
    except OverflowError:
        raise BadCursor() from None
    return when, ObjectId(document_id)


def before_in_descending_order(field: str, when: datetime, document_id: ObjectId) -> dict:
    """Filter for the items after (`when`, `document_id`) in (field desc, _id desc) order.

    The range on `field` stands at the top level, where it bounds the index scan; the `$or`
    only drops the items that tie on `field` and were already returned.
    """
    return {
        field: {"$lte": when},
        "$or": [{field: {"$lt": when}}, {"_id": {"$lt": document_id}}],
    }


def page_of(items: list[Any], limit: int) -> tuple[list[Any], bool]:
    """Split a `limit + 1` fetch into the page and whether more items follow."""
    return items[:limit], len(items) > limit


async def newest_first_page(
    model: type[Document],
    query: dict[str, Any],
    field: str,
    listing: str,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], bool, str | None]:
    """One page of `model` in (`field` desc, _id desc) order: items, has_more, next_cursor.

    `_id` breaks ties between equal timestamps, so the order is total and no item is
    returned twice or skipped.
    """
    if cursor is not None:
        when, document_id = time_and_id_from(decode_cursor(cursor, listing))
        query = {**query, **before_in_descending_order(field, when, document_id)}

    found = await model.find(query).sort(
        [(field, DESCENDING), ("_id", DESCENDING)]
    ).limit(limit + 1).to_list()
    items, has_more = page_of(found, limit)

    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = encode_cursor(listing, time_and_id_position(getattr(last, field), last.id))
    return items, has_more, next_cursor
