"""Index migrations: the indexes declared on the models are the single source of truth.

`plan_indexes` compares them with what each collection has; `apply_index_plan` creates what
is missing, replaces what differs and (if asked) drops what is not declared. A replaced index
is never simply dropped and rebuilt: a bridge index over the same keys serves queries while
the declared one is built, so no moment leaves those keys unindexed.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from convostore import __version__
from convostore.models import DOCUMENT_MODELS, Migration

logger = logging.getLogger(__name__)

ID_INDEX = "_id_"
# Options that make two indexes over the same keys behave differently.
COMPARED_OPTIONS = ("unique", "sparse", "partialFilterExpression", "expireAfterSeconds",
                    "collation")
BRIDGE_SUFFIX = "__convostore_bridge"
BRIDGE_FIELD = "__convostore_bridge"
MAX_DUPLICATES_SHOWN = 50


def _plain(value: Any) -> Any:
    """SON and nested mappings as plain dicts, numbers as numbers: comparable values."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class IndexSpec:
    name: str
    keys: tuple[tuple[str, Any], ...]
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "IndexSpec":
        """From an IndexModel's document or a `listIndexes` entry."""
        keys = tuple((name, _plain(direction)) for name, direction in document["key"].items())
        options = {
            option: _plain(document[option])
            for option in COMPARED_OPTIONS
            if document.get(option) not in (None, False)
        }
        return cls(document["name"], keys, options)

    def matches(self, other: "IndexSpec") -> bool:
        if self.keys != other.keys or set(self.options) != set(other.options):
            return False
        for option, value in self.options.items():
            found = other.options[option]
            if option == "collation":
                # The server fills in every collation default; compare what was declared.
                if any(found.get(key) != item for key, item in value.items()):
                    return False
            elif found != value:
                return False
        return True

    def to_index_model(self, name: str | None = None, with_options: bool = True) -> IndexModel:
        options = self.options if with_options else {}
        return IndexModel(list(self.keys), name=name or self.name, **options)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "keys": dict(self.keys), **self.options}


@dataclass
class CollectionPlan:
    collection: str
    missing: list[IndexSpec] = field(default_factory=list)
    differing: list[tuple[IndexSpec, IndexSpec]] = field(default_factory=list)  # declared, found
    extra: list[IndexSpec] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.differing or self.extra)

    def describe(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "missing": [spec.describe() for spec in self.missing],
            "differing": [
                {"declared": declared.describe(), "found": found.describe()}
                for declared, found in self.differing
            ],
            "extra": [spec.describe() for spec in self.extra],
        }


class DuplicateKeys(Exception):
    """A unique index cannot be built: existing documents share its key."""

    def __init__(self, duplicates: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(duplicates)} duplicate keys block unique indexes")
        self.duplicates = duplicates


def declared_indexes() -> dict[str, list[IndexSpec]]:
    """Collection name -> the indexes its model declares."""
    return {
        model.Settings.name: [
            IndexSpec.from_document(index.document) for index in model.Settings.indexes
        ]
        for model in DOCUMENT_MODELS
    }


async def _existing_indexes(collection: AsyncCollection) -> dict[str, IndexSpec]:
    found = {}
    async for document in await collection.list_indexes():
        if document["name"] != ID_INDEX:
            found[document["name"]] = IndexSpec.from_document(dict(document))
    return found


async def plan_indexes(database: AsyncDatabase) -> list[CollectionPlan]:
    plans = []
    existing_collections = set(await database.list_collection_names())
    for collection_name, declared in declared_indexes().items():
        plan = CollectionPlan(collection_name)
        existing = {}
        if collection_name in existing_collections:
            existing = await _existing_indexes(database[collection_name])
        for spec in declared:
            found = existing.pop(spec.name, None)
            if found is None:
                plan.missing.append(spec)
            elif not spec.matches(found):
                plan.differing.append((spec, found))
        # Bridges left by an interrupted apply are not the operator's indexes: not extra.
        plan.extra = [s for name, s in existing.items() if not name.endswith(BRIDGE_SUFFIX)]
        plans.append(plan)
    return plans


async def find_duplicates(collection: AsyncCollection, spec: IndexSpec) -> list[dict[str, Any]]:
    """Values of a unique index's keys held by more than one document, with their ids.

    Documents missing a key field count as holding null, as the index would see them.
    """
    pipeline: list[dict[str, Any]] = []
    if "partialFilterExpression" in spec.options:
        pipeline.append({"$match": spec.options["partialFilterExpression"]})
    key = {field.replace(".", "_"): {"$ifNull": [f"${field}", None]} for field, _ in spec.keys}
    pipeline += [
        {"$group": {"_id": key, "ids": {"$push": "$_id"}, "count": {"$sum": 1}}},
        {"$match": {"count": {"$gt": 1}}},
        {"$limit": MAX_DUPLICATES_SHOWN},
    ]
    cursor = await collection.aggregate(pipeline)
    return [
        {"collection": collection.name, "index": spec.name, "value": group["_id"],
         "ids": [str(document_id) for document_id in group["ids"]]}
        async for group in cursor
    ]


async def _record(database: AsyncDatabase, action: str, collection: str,
                  spec: IndexSpec) -> None:
    await Migration(
        kind="index", action=action, target=collection, name=spec.name,
        spec=spec.describe(), convostore_version=__version__,
    ).insert()
    logger.info("index %s: %s.%s", action, collection, spec.name)


async def _replace(collection: AsyncCollection, declared: IndexSpec, found: IndexSpec) -> None:
    """Swap `found` for `declared`, with a bridge over the old keys in between."""
    bridge_name = found.name + BRIDGE_SUFFIX
    bridge_keys = (*found.keys, (BRIDGE_FIELD, 1))
    bridge = IndexSpec(bridge_name, bridge_keys)
    await collection.create_indexes([bridge.to_index_model()])
    await collection.drop_index(found.name)
    await collection.create_indexes([declared.to_index_model()])
    await collection.drop_index(bridge_name)


async def apply_index_plan(
    database: AsyncDatabase,
    plans: list[CollectionPlan],
    *,
    drop_extra: bool = False,
    only_missing: bool = False,
) -> list[str]:
    """Bring the indexes in line with `plans`; returns what was done, one line each.

    Every unique index about to be built is checked against the existing documents first;
    if any holds duplicates, nothing at all is built and DuplicateKeys is raised.
    """
    to_build = [
        (plan.collection, spec)
        for plan in plans
        for spec in plan.missing + ([] if only_missing else [d for d, _ in plan.differing])
    ]
    duplicates = []
    for collection_name, spec in to_build:
        if spec.options.get("unique"):
            duplicates += await find_duplicates(database[collection_name], spec)
    if duplicates:
        raise DuplicateKeys(duplicates)

    done = []
    for plan in plans:
        collection = database[plan.collection]
        for spec in plan.missing:
            await collection.create_indexes([spec.to_index_model()])
            await _record(database, "create", plan.collection, spec)
            done.append(f"created {plan.collection}.{spec.name}")
        if only_missing:
            continue
        for declared, found in plan.differing:
            await _replace(collection, declared, found)
            await _record(database, "replace", plan.collection, declared)
            done.append(f"replaced {plan.collection}.{declared.name}")
        if drop_extra:
            for spec in plan.extra:
                await collection.drop_index(spec.name)
                await _record(database, "drop", plan.collection, spec)
                done.append(f"dropped {plan.collection}.{spec.name}")
        done += await _drop_leftover_bridges(collection)
    return done


async def _drop_leftover_bridges(collection: AsyncCollection) -> list[str]:
    """Bridges an interrupted replace left behind, once the index they stood in for exists."""
    existing = await _existing_indexes(collection)
    dropped = []
    for name in existing:
        if name.endswith(BRIDGE_SUFFIX) and name.removesuffix(BRIDGE_SUFFIX) in existing:
            await collection.drop_index(name)
            dropped.append(f"dropped leftover bridge {collection.name}.{name}")
    return dropped
