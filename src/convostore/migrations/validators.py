"""Schema validation in the database: a `$jsonSchema` validator derived from each model.

The database itself then refuses a malformed direct insert (a message without
`conversation_id`, a `role` of "robot", a `created_at` stored as a string). The level is
`moderate`: documents that were already invalid can still be updated, which is how the
timestamp backfill repairs them.
"""

import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from convostore import __version__
from convostore.models import DOCUMENT_MODELS, Migration, TimestampedDocument

logger = logging.getLogger(__name__)

VALIDATION_LEVEL = "moderate"
VALIDATION_ACTION = "error"
# Beanie's optimistic-locking field: not part of convostore's documents.
_NOT_STORED = {"revision_id"}
_JSON_TO_BSON = {"string": "string", "boolean": "bool", "integer": ["int", "long"],
                 "number": ["double", "int", "long", "decimal"], "object": "object",
                 "array": "array", "null": "null"}
_KEPT_KEYWORDS = ("minLength", "maxLength", "maxProperties", "minProperties", "minItems",
                  "maxItems", "enum", "minimum", "maximum", "description")


def _bson_schema(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Translate one pydantic JSON Schema node into MongoDB's `$jsonSchema` dialect."""
    reference = schema.get("$ref")
    if reference is not None:
        name = reference.rsplit("/", 1)[-1]
        if name == "PydanticObjectId":
            return {"bsonType": "objectId"}
        return _bson_schema(definitions[name], definitions)

    if "anyOf" in schema:
        options = [_bson_schema(option, definitions) for option in schema["anyOf"]]
        if all(set(option) == {"bsonType"} or "null" == option.get("bsonType")
               for option in options):
            types: list[str] = []
            for option in options:
                found = option["bsonType"]
                types += found if isinstance(found, list) else [found]
            merged = {key: value for option in options for key, value in option.items()}
            return {**merged, "bsonType": types}
        return {"anyOf": options}

    if schema.get("format") == "date-time":
        return {"bsonType": "date"}

    translated: dict[str, Any] = {}
    if "type" in schema:
        translated["bsonType"] = _JSON_TO_BSON[schema["type"]]
    for keyword in _KEPT_KEYWORDS:
        if keyword in schema:
            translated[keyword] = schema[keyword]
    values = schema.get("additionalProperties")
    patterns = schema.get("patternProperties", {})
    if not isinstance(values, dict) and len(patterns) == 1:
        # A map whose keys have a pattern (metadata): the API checks the keys; the database
        # checks every value against the one schema.
        values = next(iter(patterns.values()))
    if isinstance(values, dict):
        translated["additionalProperties"] = _bson_schema(values, definitions)
    if "items" in schema:
        translated["items"] = _bson_schema(schema["items"], definitions)
    return translated


def validator_for(model: type[TimestampedDocument]) -> dict[str, Any]:
    """The `$jsonSchema` validator of a model's collection.

    Every field is required: convostore stores each one, `null` included, on every write.
    """
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    properties = {
        name: _bson_schema(node, definitions)
        for name, node in schema["properties"].items()
        if name not in _NOT_STORED
    }
    properties["_id"] = {"bsonType": "objectId"}
    return {
        "$jsonSchema": {
            "bsonType": "object",
            "title": model.__name__,
            "required": sorted(properties),
            "properties": properties,
        }
    }


async def _current_options(database: AsyncDatabase) -> dict[str, dict[str, Any]]:
    cursor = await database.list_collections()
    return {info["name"]: info.get("options", {}) async for info in cursor}


async def plan_validators(database: AsyncDatabase) -> list[str]:
    """Names of the collections whose validator differs from their model's."""
    current = await _current_options(database)
    return [
        model.get_settings().name
        for model in DOCUMENT_MODELS
        if not _in_place(current.get(model.get_settings().name), validator_for(model))
    ]


def _in_place(options: dict[str, Any] | None, validator: dict[str, Any]) -> bool:
    return (
        options is not None
        and options.get("validator") == validator
        and options.get("validationLevel") == VALIDATION_LEVEL
        and options.get("validationAction") == VALIDATION_ACTION
    )


async def apply_validators(database: AsyncDatabase) -> list[str]:
    """Set every collection's validator (creating the collection if needed)."""
    current = await _current_options(database)
    done = []
    for model in DOCUMENT_MODELS:
        name = model.get_settings().name
        validator = validator_for(model)
        if _in_place(current.get(name), validator):
            continue
        settings = {"validator": validator, "validationLevel": VALIDATION_LEVEL,
                    "validationAction": VALIDATION_ACTION}
        if name in current:
            await database.command({"collMod": name, **settings})
        else:
            await database.create_collection(name, **settings)
        await Migration(kind="validator", action="set", target=name, name="$jsonSchema",
                        spec=validator, convostore_version=__version__).insert()
        logger.info("validator set on %s", name)
        done.append(f"set validator on {name}")
    return done
