"""The analysts' worked examples, on an imported chitchat slice, against Python's own counts."""

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo import MongoClient

from convostore import analytics
from convostore.importing import (
    ImportReport,
    import_conversations,
    load_chitchat_dataset,
    read_chitchat,
)

SLICE = 60
SCRIPT = Path(__file__).parent.parent / "scripts" / "analytics_examples.py"


@pytest.fixture
async def imported(db, alice, bob, settings):
    await import_conversations(alice.user.id, itertools.islice(read_chitchat(), SLICE - 10),
                               ImportReport())
    await import_conversations(bob.user.id,
                               itertools.islice(read_chitchat(), SLICE - 10, SLICE),
                               ImportReport())
    utterances = [
        u for conversation in itertools.islice(load_chitchat_dataset().values(), SLICE)
        for turn in conversation["messages"] for u in turn
    ]
    with MongoClient(settings.mongodb_uri.get_secret_value(), tz_aware=True) as client:
        yield client[settings.database], utterances


async def test_examples_match_python_counts(imported, alice, bob):
    database, utterances = imported

    per_day = Counter(u["timestamp"][:10] for u in utterances)
    assert analytics.messages_per_day(database) == [
        {"day": day, "messages": count} for day, count in sorted(per_day.items())
    ]

    assert analytics.conversations_per_user(database) == [
        {"user_id": alice.id, "email": "alice@example.com", "conversations": SLICE - 10},
        {"user_id": bob.id, "email": "bob@example.com", "conversations": 10},
    ]

    lengths = [sum(len(turn) for turn in c["messages"])
               for c in itertools.islice(load_chitchat_dataset().values(), SLICE)]
    assert analytics.median_conversation_length(database) == statistics.median(lengths)

    shares = analytics.role_shares(database)
    assert sum(row["messages"] for row in shares) == len(utterances)
    assert {row["role"] for row in shares} == {"user", "assistant"}
    assert sum(row["share"] for row in shares) == pytest.approx(1.0)

    since = datetime(2018, 5, 1, tzinfo=UTC)
    expected_active = sum(1 for u in utterances if u["timestamp"] >= "2018-05-01")
    active = analytics.users_active_since(database, since)
    assert sum(row["messages"] for row in active) == expected_active

    conversation = database.conversations.find_one({"user_id": bob.user.id})
    text = analytics.conversation_text(database, conversation["_id"])
    assert [row["seq"] for row in text] == list(range(1, conversation["message_count"] + 1))


async def test_the_script_prints_every_table(imported, settings):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOSTORE_")}
    env.update({"CONVOSTORE_MONGODB_URI": settings.mongodb_uri.get_secret_value(),
                "CONVOSTORE_DATABASE": settings.database, "COLUMNS": "200"})
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for title in ("Messages per day", "Conversations per user", "Median conversation length",
                  "Share of each role", "Users active in the last 7 days", "Conversation "):
        assert title in result.stdout
