"""Read-only database users for data scientists.

Each gets the `convostoreReader` role on the convostore database: find, list collections
and indexes, and collection and database statistics. Nothing else: no insert, update,
delete, drop or index creation.
"""

import secrets
from urllib.parse import quote_plus, urlsplit, urlunsplit

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

READER_ROLE = "convostoreReader"
READ_ACTIONS = ["find", "listCollections", "listIndexes", "collStats", "dbStats"]
_ALREADY_EXISTS = (11000, 51002, 51003)


class AnalystExists(Exception):
    """A database user of that name exists already."""


async def _ensure_reader_role(database: AsyncDatabase) -> None:
    privileges = [{"resource": {"db": database.name, "collection": ""},
                   "actions": READ_ACTIONS}]
    try:
        await database.command({"createRole": READER_ROLE, "privileges": privileges,
                                "roles": []})
    except OperationFailure as error:
        if error.code not in _ALREADY_EXISTS and "already exists" not in str(error):
            raise
        await database.command({"updateRole": READER_ROLE, "privileges": privileges,
                                "roles": []})


async def create_analyst(database: AsyncDatabase, name: str) -> str:
    """Create the user with a generated password, and return the password."""
    await _ensure_reader_role(database)
    password = secrets.token_urlsafe(24)
    try:
        await database.command({"createUser": name, "pwd": password,
                                "roles": [{"role": READER_ROLE, "db": database.name}]})
    except OperationFailure as error:
        if error.code in _ALREADY_EXISTS or "already exists" in str(error):
            raise AnalystExists(f"a database user named {name!r} exists already") from None
        raise
    return password


def analyst_uri(server_uri: str, database: str, name: str, password: str) -> str:
    """A connection string for the analyst: the server's hosts, the analyst's credentials."""
    parts = urlsplit(server_uri)
    hosts = parts.netloc.rpartition("@")[2]
    query = "&".join(filter(None, [parts.query, f"authSource={database}"]))
    netloc = f"{quote_plus(name)}:{quote_plus(password)}@{hosts}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", query, ""))
