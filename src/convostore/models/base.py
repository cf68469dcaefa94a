"""The base every stored document inherits: `created_at` and `updated_at`, kept right."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, Self

from beanie import Document, Insert, Replace, Save, SaveChanges, Update, before_event
from pydantic import Field, field_validator
from pymongo import ASCENDING, IndexModel

from convostore.models.stamped_collection import StampedCollection
from convostore.timestamps import pinned_write_time, to_utc_ms, utc_now_ms, write_time


def timestamp_indexes() -> list[IndexModel]:
    """The single-field indexes every collection has, for analysts filtering by time."""
    return [
        IndexModel([("created_at", ASCENDING)], name="created_at"),
        IndexModel([("updated_at", ASCENDING)], name="updated_at"),
    ]


class TimestampedDocument(Document):
    """A document stamped with `created_at` and `updated_at` (aware UTC, milliseconds).

    The `before_event` hook stamps the object in memory for document methods; the collection
    returned by `get_pymongo_collection` stamps the stored document on every write path,
    including the ones Beanie runs no hooks for (query-level updates, bulk inserts and writes).
    Document methods pin one clock reading so that memory and storage agree.
    """

    created_at: datetime = Field(default_factory=utc_now_ms)
    updated_at: datetime = Field(default_factory=utc_now_ms)

    _stamped_collections: ClassVar[dict[int, StampedCollection]] = {}

    @field_validator("created_at", "updated_at")
    @classmethod
    def _to_utc_ms(cls, value: datetime) -> datetime:
        return to_utc_ms(value)

    @before_event(Insert)
    def _stamp_insert(self) -> None:
        self.created_at = self.updated_at = write_time()

    @before_event(Replace, Save, SaveChanges, Update)
    def _stamp_update(self) -> None:
        self.updated_at = write_time()

    @classmethod
    def get_pymongo_collection(cls) -> Any:
        collection = super().get_pymongo_collection()
        stamped = cls._stamped_collections.get(id(collection))
        if stamped is None or stamped.unstamped is not collection:
            stamped = StampedCollection(collection)
            cls._stamped_collections[id(collection)] = stamped
        return stamped

    async def insert(self, **kwargs: Any) -> Self:
        with pinned_write_time():
            return await super().insert(**kwargs)

    async def replace(self, **kwargs: Any) -> Self:
        with pinned_write_time():
            return await super().replace(**kwargs)

    async def save(self, **kwargs: Any) -> Self:
        with pinned_write_time():
            return await super().save(**kwargs)

    async def update(self, *args: Any, **kwargs: Any) -> Self:
        with pinned_write_time():
            return await super().update(*args, **kwargs)

    @classmethod
    async def insert_many(cls, documents: Iterable[Self], **kwargs: Any) -> Any:
        documents = list(documents)
        with pinned_write_time() as now:
            for document in documents:
                document.created_at = document.updated_at = now
            return await super().insert_many(documents, **kwargs)
