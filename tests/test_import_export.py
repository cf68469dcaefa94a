"""Importing the real chitchat dataset, and JSONL export/import round trips."""

import itertools
import json

import pytest

from convostore.exporting import export_chunks
from convostore.importing import (
    ImportReport,
    import_conversations,
    load_chitchat_dataset,
    read_chitchat,
    read_jsonl,
)
from tests.helpers import check, page_through

SLICE = 40


@pytest.fixture(scope="module")
def chitchat_slice() -> list[tuple[str, dict]]:
    return list(itertools.islice(load_chitchat_dataset().items(), SLICE))


async def test_chitchat_slice_comes_back_message_for_message(client, alice, chitchat_slice):
    report = await import_conversations(
        alice.user.id, itertools.islice(read_chitchat(), SLICE), ImportReport()
    )
    expected_messages = sum(len(turn) for _, c in chitchat_slice for turn in c["messages"])
    assert (report.conversations, report.messages) == (SLICE, expected_messages)

    conversations = await page_through(client, alice, "/v1/conversations", limit=100)
    by_source = {c["metadata"]["source_id"]: c for c in conversations}
    assert len(by_source) == SLICE

    for source_id, original in chitchat_slice:
        conversation = by_source[source_id]
        utterances = [u for turn in original["messages"] for u in turn]
        assert conversation["message_count"] == len(utterances)
        assert conversation["title"] == original.get("prompt")
        messages = await page_through(
            client, alice, f"/v1/conversations/{conversation['id']}/messages", limit=100
        )
        assert [m["seq"] for m in messages] == list(range(1, len(utterances) + 1))
        assert [m["content"] for m in messages] == [u["text"] for u in utterances]
        assert [m["timestamp"] for m in messages] == [
            u["timestamp"].replace("Z", ".000Z") for u in utterances
        ]
        first_sender = utterances[0]["sender"]
        assert [m["role"] for m in messages] == [
            "user" if u["sender"] == first_sender else "assistant" for u in utterances
        ]
        assert conversation["last_message_at"] == messages[-1]["timestamp"]


async def _export(user_id) -> str:
    return "".join([chunk async for chunk in export_chunks(user_id)])


async def test_export_then_import_round_trips(app, alice, bob, tmp_path):
    await import_conversations(alice.user.id, itertools.islice(read_chitchat(), 5),
                               ImportReport())
    exported = await _export(alice.user.id)
    lines = exported.splitlines()
    assert len(lines) == 5
    assert all(json.loads(line)["messages"] for line in lines)

    path = tmp_path / "alice.jsonl"
    path.write_text(exported, encoding="utf-8")
    report = ImportReport()
    await import_conversations(bob.user.id, read_jsonl(path, report), report)
    assert report.skipped == []
    assert await _export(bob.user.id) == exported


async def test_jsonl_import_keeps_odd_messages_and_reports_bad_lines(client, alice, tmp_path):
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join([
        json.dumps({"title": "odd", "metadata": {"k": "v"}, "messages": [
            {"role": "system", "content": ""},
            {"role": "user", "content": "  spaces  ", "timestamp": "2020-02-02T02:02:02Z"},
            {"role": "tool", "content": "{\"json\": true}", "extra": "ignored"},
        ]}),
        "{not json",
        json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
        "",
        json.dumps({"messages": []}),
    ]), encoding="utf-8")

    report = ImportReport()
    await import_conversations(alice.user.id, read_jsonl(path, report), report)
    assert (report.conversations, report.messages) == (2, 3)
    assert [line.split(":")[0] for line in report.skipped] == ["line 2", "line 3"]

    listed = await page_through(client, alice, "/v1/conversations")
    odd = next(c for c in listed if c["title"] == "odd")
    messages = check(await client.get(f"/v1/conversations/{odd['id']}/messages",
                                      headers=alice.headers), 200)["data"]
    assert [m["content"] for m in messages] == ["", "  spaces  ", "{\"json\": true}"]
    assert messages[1]["timestamp"] == "2020-02-02T02:02:02.000Z"


async def test_the_api_streams_the_same_export(client, alice):
    await import_conversations(alice.user.id, itertools.islice(read_chitchat(), 3),
                               ImportReport())
    response = await client.get("/v1/users/me/export", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert response.text == await _export(alice.user.id)
    assert len(response.text.splitlines()) == 3
