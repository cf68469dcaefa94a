"""Run the worked examples of docs/data-model.md against a convostore database.

    python scripts/analytics_examples.py [--days 7] [--conversation ID]

It reads CONVOSTORE_MONGODB_URI and CONVOSTORE_DATABASE like convostore itself; without a
URI it attaches to (or starts) the embedded database in CONVOSTORE_DATA_DIR.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from bson import ObjectId
from pymongo import MongoClient
from rich.console import Console
from rich.table import Table

from convostore import analytics
from convostore.config import get_settings
from convostore.embedded import EmbeddedServer

console = Console()


def show(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print(f"{title}: none\n")
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*(f"{v:.1%}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


def main(
    days: Annotated[int, typer.Option(min=1, help="Window for 'active users'.")] = 7,
    conversation: Annotated[str | None, typer.Option(
        help="Conversation to print in full; default: the most recently updated.")] = None,
) -> None:
    settings = get_settings()
    embedded = None
    if settings.mongodb_uri is None:
        embedded = EmbeddedServer(settings.data_dir, settings.embedded_port).start()
        uri = embedded.uri
    else:
        uri = settings.mongodb_uri.get_secret_value()

    try:
        with MongoClient(uri, tz_aware=True) as client:
            db = client[settings.database]
            show("Messages per day (by timestamp)", analytics.messages_per_day(db))
            show("Conversations per user", analytics.conversations_per_user(db))
            median = analytics.median_conversation_length(db)
            console.print(f"Median conversation length: {median} messages\n")
            show("Share of each role", analytics.role_shares(db))
            since = datetime.now(UTC) - timedelta(days=days)
            show(f"Users active in the last {days} days",
                 analytics.users_active_since(db, since))

            if conversation is None:
                latest = db.conversations.find_one({}, sort=[("updated_at", -1)])
                conversation = str(latest["_id"]) if latest else None
            if conversation is not None:
                show(f"Conversation {conversation}",
                     analytics.conversation_text(db, ObjectId(conversation)))
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    typer.run(main)
