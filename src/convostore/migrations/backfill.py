"""Repairing timestamps of documents written before the standard, or by other tools.

- a missing `created_at` becomes the ObjectId's creation time (for messages, their
  `timestamp` when that is a usable time);
- a missing `updated_at` becomes `created_at`;
- dates stored as strings (or as epoch numbers) become BSON dates;
- every repaired value is UTC, truncated to the millisecond.

Only documents that still need it are touched, so the command can be interrupted and run
again. It writes through the plain collection: the stamping that every other write gets
would overwrite exactly the values being restored.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from convostore.models import DOCUMENT_MODELS
from convostore.timestamps import to_utc_ms

BATCH_SIZE = 1000
STAMPS = ("created_at", "updated_at")


@dataclass
class BackfillSummary:
    collection: str
    needing_repair: int = 0
    repaired: int = 0


def needs_repair() -> dict[str, Any]:
    """Documents whose created_at or updated_at is missing, null, or not a BSON date."""
    return {"$or": [{stamp: {"$not": {"$type": "date"}}} for stamp in STAMPS]}


def _as_time(value: Any) -> datetime | None:
    """A usable UTC millisecond time from a date, an ISO 8601 string or epoch seconds."""
    try:
        if isinstance(value, datetime):
            return to_utc_ms(value)
        if isinstance(value, str) and value.strip():
            return to_utc_ms(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        if isinstance(value, int | float) and not isinstance(value, bool):
            return to_utc_ms(datetime.fromtimestamp(value, UTC))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def repaired_stamps(document: dict[str, Any]) -> dict[str, datetime]:
    """The `$set` that fixes a document's timestamps."""
    created_at = _as_time(document.get("created_at"))
    if created_at is None:
        created_at = _as_time(document.get("timestamp")) if "seq" in document else None
    if created_at is None:
        created_at = to_utc_ms(document["_id"].generation_time)
    updated_at = _as_time(document.get("updated_at")) or created_at
    return {"created_at": created_at, "updated_at": max(updated_at, created_at)}


async def backfill_timestamps(
    database: AsyncDatabase,
    *,
    dry_run: bool = False,
    on_progress: Callable[[int], Any] = lambda count: None,
) -> list[BackfillSummary]:
    summaries = []
    for model in DOCUMENT_MODELS:
        name = model.get_settings().name
        collection = database[name]
        summary = BackfillSummary(name, await collection.count_documents(needs_repair()))
        summaries.append(summary)
        if dry_run or not summary.needing_repair:
            continue

        projection = {"created_at": True, "updated_at": True, "timestamp": True, "seq": True}
        batch: list[UpdateOne] = []
        async for document in collection.find(needs_repair(), projection=projection):
            batch.append(UpdateOne({"_id": document["_id"]},
                                   {"$set": repaired_stamps(document)}))
            if len(batch) == BATCH_SIZE:
                summary.repaired += await _write(collection, batch, on_progress)
                batch = []
        if batch:
            summary.repaired += await _write(collection, batch, on_progress)
    return summaries


async def _write(collection: Any, batch: list[UpdateOne],
                 on_progress: Callable[[int], Any]) -> int:
    result = await collection.bulk_write(batch, ordered=False)
    on_progress(len(batch))
    return result.modified_count
