"""A collection wrapper that stamps `created_at` and `updated_at` on every write it carries.

Beanie's event hooks only run for some document methods; query-level updates, bulk inserts,
bulk writes and direct driver calls skip them. Every one of those paths still goes through
the model's collection, so wrapping the collection is the one place that cannot be forgotten:

- inserts get `created_at == updated_at` from one clock reading;
- updates move `updated_at` to now, and never back (`$max`: of two racing writes the one
  that read the clock earlier may land last); they never change `created_at` (except to fill
  it in on an upsert);
- replacements become pipeline updates that keep the stored `created_at`.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from pymongo import InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from convostore.timestamps import to_utc_ms, write_time

CREATED = "created_at"
UPDATED = "updated_at"
_STAMPS = (CREATED, UPDATED)

# Pipeline stages that can drop or rewrite fields wholesale: a pipeline update that uses one
# of them could lose `created_at`, so such updates are refused rather than guessed at.
_WHOLESALE_STAGES = {"$project", "$replaceRoot", "$replaceWith", "$unset"}


def _touches_stamp(field: str) -> bool:
    return any(field == stamp or field.startswith(stamp + ".") for stamp in _STAMPS)


def stamp_new_document(document: Mapping[str, Any], now: datetime) -> MutableMapping[str, Any]:
    """Stamp a document about to be inserted, in place when it is mutable (as PyMongo adds _id)."""
    if not isinstance(document, MutableMapping):
        document = dict(document)
    document[CREATED] = now
    document[UPDATED] = now
    return document


def stamp_update(update: Mapping[str, Any] | list[Any], now: datetime) -> Any:
    """The update (operators or pipeline), also setting `updated_at` and keeping `created_at`."""
    if isinstance(update, list):
        return _stamp_pipeline(update, now)

    if not update or not all(str(operator).startswith("$") for operator in update):
        raise ValueError("an update needs $-operators; use replace_one to replace a document")

    stamped: dict[str, Any] = {}
    given_created_at = None
    for operator, fields in update.items():
        if operator == "$setOnInsert" or not isinstance(fields, Mapping):
            stamped[operator] = dict(fields) if isinstance(fields, Mapping) else fields
            continue

        if operator == "$set" and isinstance(fields.get(CREATED), datetime):
            given_created_at = fields[CREATED]
        kept = {
            field: value
            for field, value in fields.items()
            if not _touches_stamp(field)
            and not (operator == "$rename" and isinstance(value, str) and _touches_stamp(value))
        }
        if kept:
            stamped[operator] = kept

    stamped.setdefault("$max", {})[UPDATED] = now
    on_insert = stamped.setdefault("$setOnInsert", {})
    on_insert[CREATED] = to_utc_ms(given_created_at) if given_created_at else now
    on_insert.pop(UPDATED, None)
    return stamped


def _not_before_stored(now: datetime) -> dict[str, Any]:
    # $max ignores a missing or null stored value.
    return {"$max": ["$updated_at", now]}


def _stamp_pipeline(pipeline: list[Any], now: datetime) -> list[Any]:
    for stage in pipeline:
        for name, spec in stage.items():
            if name in _WHOLESALE_STAGES or (
                isinstance(spec, Mapping) and any(_touches_stamp(field) for field in spec)
            ):
                raise ValueError(
                    f"pipeline update stage {name} may change created_at; "
                    "use replace_one or an operator update instead"
                )
    stamps = {CREATED: {"$ifNull": ["$created_at", now]}, UPDATED: _not_before_stored(now)}
    return [*pipeline, {"$set": stamps}]


def replacement_pipeline(replacement: Mapping[str, Any], now: datetime) -> list[Any]:
    """Turn a replacement into a pipeline update that keeps the stored `created_at`."""
    body = {field: value for field, value in replacement.items() if field not in _STAMPS}
    given_created_at = replacement.get(CREATED)
    created_if_new = to_utc_ms(given_created_at) if isinstance(given_created_at, datetime) else now
    server_fields = {
        "_id": "$_id",
        CREATED: {"$ifNull": ["$created_at", created_if_new]},
        UPDATED: _not_before_stored(now),
    }
    # $literal keeps user data such as "$price" or {"$ne": 1} from being read as expressions.
    return [{"$replaceWith": {"$mergeObjects": [{"$literal": body}, server_fields]}}]


def _stamp_operation(operation: Any, now: datetime) -> Any:
    if isinstance(operation, InsertOne):
        operation._doc = stamp_new_document(operation._doc, now)
        return operation
    if isinstance(operation, ReplaceOne):
        return UpdateOne(
            operation._filter,
            replacement_pipeline(operation._doc, now),
            upsert=operation._upsert,
            collation=operation._collation,
            hint=operation._hint,
            sort=operation._sort,
        )
    if isinstance(operation, UpdateOne | UpdateMany):
        operation_type = type(operation)
        extra = {"sort": operation._sort} if operation_type is UpdateOne else {}
        return operation_type(
            operation._filter,
            stamp_update(operation._doc, now),
            upsert=operation._upsert,
            collation=operation._collation,
            array_filters=operation._array_filters,
            hint=operation._hint,
            **extra,
        )
    return operation


class StampedCollection:
    """Delegates to an AsyncCollection, stamping timestamps on every write method."""

    # Known gap: aggregate() with $merge or $out writes documents without stamps; it is
    # delegated untouched. Nothing in convostore writes that way.

    def __init__(self, collection: AsyncCollection) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StampedCollection):
            return self._collection == other._collection
        return self._collection == other

    def __hash__(self) -> int:
        return hash(self._collection)

    @property
    def unstamped(self) -> AsyncCollection:
        """The plain collection, for reads and for tests that must write around the stamps."""
        return self._collection

    def with_options(self, *args: Any, **kwargs: Any) -> "StampedCollection":
        return StampedCollection(self._collection.with_options(*args, **kwargs))

    async def insert_one(self, document: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        document = stamp_new_document(document, write_time())
        return await self._collection.insert_one(document, *args, **kwargs)

    async def insert_many(
        self, documents: Iterable[Mapping[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        now = write_time()
        stamped = [stamp_new_document(document, now) for document in documents]
        return await self._collection.insert_many(stamped, *args, **kwargs)

    async def update_one(self, filter: Any, update: Any, *args: Any, **kwargs: Any) -> Any:
        update = stamp_update(update, write_time())
        return await self._collection.update_one(filter, update, *args, **kwargs)

    async def update_many(self, filter: Any, update: Any, *args: Any, **kwargs: Any) -> Any:
        update = stamp_update(update, write_time())
        return await self._collection.update_many(filter, update, *args, **kwargs)

    async def find_one_and_update(
        self, filter: Any, update: Any, *args: Any, **kwargs: Any
    ) -> Any:
        update = stamp_update(update, write_time())
        return await self._collection.find_one_and_update(filter, update, *args, **kwargs)

    # Replacements take keyword options only: the positional order of replace_one's and
    # update_one's options differs, and the call below is an update.
    async def replace_one(self, filter: Any, replacement: Any, **kwargs: Any) -> Any:
        pipeline = replacement_pipeline(replacement, write_time())
        return await self._collection.update_one(filter, pipeline, **kwargs)

    async def find_one_and_replace(self, filter: Any, replacement: Any, **kwargs: Any) -> Any:
        pipeline = replacement_pipeline(replacement, write_time())
        return await self._collection.find_one_and_update(filter, pipeline, **kwargs)

    async def bulk_write(self, requests: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        now = write_time()
        stamped = [_stamp_operation(operation, now) for operation in requests]
        return await self._collection.bulk_write(stamped, *args, **kwargs)
