from typing import Any

from convostore.models.base import TimestampedDocument, timestamp_indexes


class Migration(TimestampedDocument):
    """One change a migration command applied: what, to which collection, by which version.

    `created_at` is when it was applied.
    """

    kind: str  # "index" or "validator"
    action: str  # "create", "replace", "drop" or "set"
    target: str  # collection
    name: str  # the index name, or "$jsonSchema"
    spec: dict[str, Any]
    convostore_version: str

    class Settings:
        name = "migrations"
        indexes = [*timestamp_indexes()]
