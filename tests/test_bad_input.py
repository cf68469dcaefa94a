"""Bad input gets a clear 4xx in the one error shape, and changes nothing."""

import pytest

from tests.helpers import append, check, check_error, create_conversation

SERVER_OWNED = ["id", "user_id", "conversation_id", "seq", "created_at", "updated_at",
                "message_count", "last_message_at"]


async def _counts(db) -> dict[str, int]:
    return {name: await db[name].count_documents({})
            for name in ("tasks", "conversations", "messages")}


@pytest.mark.parametrize("field", SERVER_OWNED)
async def test_server_owned_fields_are_refused_by_name(client, alice, db, field):
    conversation = await create_conversation(client, alice)
    before = await _counts(db)
    value = "2020-01-01T00:00:00Z" if field.endswith("_at") else "0123456789abcdef01234567"
    bodies = [
        ("POST", "/v1/tasks", {"title": "t", field: value}),
        ("POST", "/v1/conversations", {field: value}),
        ("PATCH", f"/v1/conversations/{conversation['id']}", {field: value}),
        ("POST", f"/v1/conversations/{conversation['id']}/messages",
         {"role": "user", "content": "x", field: value}),
    ]
    for method, path, body in bodies:
        error = check_error(await client.request(method, path, json=body,
                                                 headers=alice.headers), 422)
        assert field in error["details"][0]["message"], error
    assert await _counts(db) == before
    stored = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                    headers=alice.headers), 200)
    assert stored == conversation


async def test_every_server_owned_field_sent_is_named(client, alice, db):
    error = check_error(await client.post("/v1/tasks", json={
        "title": "t", "seq": 1, "id": "0123456789abcdef01234567"}, headers=alice.headers), 422)
    assert "'id', 'seq' are set by the server" in error["details"][0]["message"], error
    assert await db["tasks"].count_documents({}) == 0


async def test_problems_are_located_with_names_and_list_positions(client, alice):
    conversation = await create_conversation(client, alice)
    error = check_error(await client.post(
        f"/v1/conversations/{conversation['id']}/messages/batch",
        json={"messages": [{"role": "user", "content": "ok"}, {"role": "robot", "content": ""}]},
        headers=alice.headers), 422)
    assert error["details"][0]["loc"] == ["body", "messages", 1, "role"], error


async def test_length_limits_speak_of_characters(client, alice):
    error = check_error(await client.post("/v1/tasks", json={"title": ""},
                                          headers=alice.headers), 422)
    assert error["details"][0]["message"] == "String should have at least 1 character", error


async def test_unknown_fields_are_refused(client, alice):
    error = check_error(await client.post("/v1/tasks", json={"title": "t", "colour": "red"},
                                          headers=alice.headers), 422)
    assert error["details"][0]["loc"][-1] == "colour"


@pytest.mark.parametrize("body", [
    b'{"title": "\\ud800"}',
    b'{"title": "ok", "description": "\\udfff tail"}',
], ids=["lone-high", "lone-low"])
async def test_lone_surrogates_are_refused(client, alice, db, body):
    response = await client.post("/v1/tasks", content=body, headers={
        **alice.headers, "Content-Type": "application/json"})
    check_error(response, 422)
    assert await db["tasks"].count_documents({}) == 0


@pytest.mark.parametrize("body", [
    b"{not json", b"", b"[]", b"null", b'"a string"', b'{"title": 5}',
    b"[" * 100_000 + b"]" * 100_000, b'{"title": "\xff"}', b'{"title": ' + b"9" * 5000 + b"}",
], ids=["broken", "empty", "array", "null", "string", "wrong-type", "deep-nesting",
        "invalid-utf8", "5000-digit-number"])
async def test_malformed_bodies_get_4xx(client, alice, db, body):
    response = await client.post("/v1/tasks", content=body, headers={
        **alice.headers, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    check_error(response, response.status_code)
    assert await db["tasks"].count_documents({}) == 0


async def test_deeply_nested_metadata_is_refused(client, alice, db):
    nested: dict = {"k": "v"}
    for _ in range(500):
        nested = {"k": nested}
    check_error(await client.post("/v1/conversations", json={"metadata": nested},
                                  headers=alice.headers), 422)
    assert await db["conversations"].count_documents({}) == 0


async def test_bodies_over_the_limit_get_413(client, alice, app, db, settings):
    conversation = await create_conversation(client, alice)
    huge = "x" * (settings.max_request_bytes + 1)
    response = await client.post(f"/v1/conversations/{conversation['id']}/messages",
                                 json={"role": "user", "content": huge}, headers=alice.headers)
    check_error(response, 413, "request_too_large")

    async def chunks():
        for _ in range(settings.max_request_bytes // 65536 + 2):
            yield b"x" * 65536

    response = await client.post("/v1/tasks", content=chunks(), headers={
        **alice.headers, "Content-Type": "application/json"})
    check_error(response, 413)
    assert await db["messages"].count_documents({}) == 0


@pytest.mark.parametrize("text", [
    "emoji 👩‍👩‍👧‍👦 🏳️‍🌈 and 😀",
    "combining: e\u0301 a\u0308 \u0915\u094d\u0937",
    "right-to-left: שלום עולם مرحبا بالعالم",
    "```python\nprint('hi')\n```\n\ttabs\r\nand \\ backslashes \"quotes\" \u0000 nul",
    "zero width\u200b joiner\u200d and bom \ufeff",
])
async def test_text_comes_back_byte_for_byte(client, alice, text):
    conversation = await create_conversation(client, alice, title=text[:500])
    message = await append(client, alice, conversation["id"], text, metadata={"note": text})
    read = check(await client.get(
        f"/v1/conversations/{conversation['id']}/messages/{message['id']}",
        headers=alice.headers), 200)
    assert read["content"].encode() == text.encode()
    assert read["metadata"]["note"] == text
    listed = check(await client.get(f"/v1/conversations/{conversation['id']}",
                                    headers=alice.headers), 200)
    assert listed["title"] == text[:500]


async def test_unknown_routes_and_methods_use_the_error_shape(client, alice):
    check_error(await client.get("/v1/nothing-here", headers=alice.headers), 404)
    check_error(await client.put("/v1/conversations", headers=alice.headers), 405)
    # No redirect to the slash-less path: Starlette would build it from the Host header.
    check_error(await client.get("/v1/tasks/", headers={**alice.headers,
                                                        "Host": "elsewhere.example"}), 404)


@pytest.mark.parametrize("when", [
    "9999-12-31T23:59:59.999-01:00", "0001-01-01T00:00:00+00:01", "10000-01-01T00:00:00Z",
])
async def test_times_out_of_range_in_utc_are_refused(client, alice, db, when):
    conversation = await create_conversation(client, alice)
    check_error(await client.post("/v1/tasks", json={"title": "t", "due_at": when},
                                  headers=alice.headers), 422)
    check_error(await client.post(f"/v1/conversations/{conversation['id']}/messages",
                                  json={"role": "user", "content": "x", "timestamp": when},
                                  headers=alice.headers), 422)
    assert await _counts(db) == {"tasks": 0, "conversations": 1, "messages": 0}


@pytest.mark.parametrize("when", [
    1700000000, -62135596800, 253402300799, 20000000001, 1.5, "1700000000", "1.7e9",
])
async def test_times_sent_as_numbers_are_refused(client, alice, db, when):
    # Read as epoch seconds or milliseconds by size, they would be stored as wrong dates.
    conversation = await create_conversation(client, alice)
    task = check(await client.post("/v1/tasks", json={"title": "t"}, headers=alice.headers),
                 201)
    for method, path, body in [
        ("POST", "/v1/tasks", {"title": "t", "due_at": when}),
        ("PATCH", f"/v1/tasks/{task['id']}", {"due_at": when}),
        ("PUT", f"/v1/tasks/{task['id']}", {"title": "t", "due_at": when}),
        ("POST", f"/v1/conversations/{conversation['id']}/messages",
         {"role": "user", "content": "x", "timestamp": when}),
    ]:
        error = check_error(await client.request(method, path, json=body,
                                                 headers=alice.headers), 422)
        assert "RFC 3339" in error["details"][0]["message"], error
    assert await _counts(db) == {"tasks": 1, "conversations": 1, "messages": 0}
    stored = check(await client.get(f"/v1/tasks/{task['id']}", headers=alice.headers), 200)
    assert stored == task


async def test_early_years_round_trip_in_rfc3339(client, alice):
    task = check(await client.post("/v1/tasks", json={"title": "t",
                                                      "due_at": "0999-05-05T00:00:00Z"},
                                   headers=alice.headers), 201)
    assert task["due_at"] == "0999-05-05T00:00:00.000Z"
    again = check(await client.put(f"/v1/tasks/{task['id']}",
                                   json={"title": "t", "due_at": task["due_at"]},
                                   headers=alice.headers), 200)
    assert again["due_at"] == task["due_at"]


async def test_huge_numbers_of_problems_are_reported_briefly(client, alice, db):
    body = {"title": "t", **{f"k{n}": 0 for n in range(5000)}}
    error = check_error(await client.post("/v1/tasks", json=body, headers=alice.headers), 422)
    assert len(error["details"]) == 20
    assert await db["tasks"].count_documents({}) == 0
