"""One user can never see or change another's data, whatever ids or operators are sent.

The route sweep is generated from the OpenAPI document, so a new route that takes an id is
covered the moment it exists (and fails here until it has a sample body).
"""

import re

import pytest
from bson import ObjectId

from tests.helpers import append, check, check_error, create_conversation

SAMPLE_BODIES = {
    "TaskCreate": {"title": "hijack"},
    "TaskReplace": {"title": "hijack"},
    "TaskUpdate": {"title": "hijack", "completed": True},
    "ConversationCreate": {"title": "hijack"},
    "ConversationUpdate": {"title": "hijack", "metadata": {"owner": "bob"}},
    "MessageCreate": {"role": "user", "content": "hijack"},
    "MessageBatchCreate": {"messages": [{"role": "user", "content": "hijack"}]},
    "MessageUpdate": {"content": "hijack"},
    "UserUpdate": {"name": "hijack"},
}


def _request_schema(operation: dict) -> str | None:
    content = operation.get("requestBody", {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _routes_with_ids(app) -> list[tuple[str, str, str | None]]:
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if "{" not in path:
            continue
        for method, operation in operations.items():
            routes.append((method.upper(), path, _request_schema(operation)))
    return routes


async def _snapshot(db) -> dict[str, list[dict]]:
    return {
        name: await db[name].find({}, sort=[("_id", 1)]).to_list()
        for name in ("users", "tasks", "conversations", "messages")
    }


@pytest.fixture
async def alices_data(client, alice) -> dict[str, str]:
    task = check(await client.post("/v1/tasks", json={"title": "mine"}, headers=alice.headers),
                 201)
    conversation = await create_conversation(client, alice, title="mine")
    message = await append(client, alice, conversation["id"], "secret")
    return {"task_id": task["id"], "conversation_id": conversation["id"],
            "message_id": message["id"]}


async def test_every_route_with_an_id_hides_other_users_data(app, client, alice, bob, db,
                                                             alices_data):
    routes = _routes_with_ids(app)
    assert len(routes) >= 12, routes
    before = await _snapshot(db)

    for method, template, schema in routes:
        names = re.findall(r"{(\w+)}", template)
        assert set(names) <= set(alices_data), f"no id of Alice's for {template}"
        path = template.format(**alices_data)
        body = None
        if schema is not None:
            assert schema in SAMPLE_BODIES, f"add a sample body for {schema} ({template})"
            body = SAMPLE_BODIES[schema]
        response = await client.request(method, path, json=body, headers=bob.headers)
        check_error(response, 404, "not_found")
        assert "secret" not in response.text and "mine" not in response.text

    assert await _snapshot(db) == before


async def test_lists_only_show_the_callers_data(client, alice, bob, alices_data):
    for path in ("/v1/tasks", "/v1/conversations"):
        page = check(await client.get(path, headers=bob.headers), 200)
        assert page["data"] == []


INJECTED_VALUES = [{"$ne": None}, {"$gt": ""}, {"$where": "true"}, {"$regex": ".*"}]


@pytest.mark.parametrize("value", INJECTED_VALUES, ids=lambda v: next(iter(v)))
async def test_operators_in_bodies_are_refused(client, bob, db, alices_data, value):
    before = await _snapshot(db)
    attempts = [
        ("POST", "/v1/tasks", {"title": value}),
        ("POST", "/v1/tasks", {"title": "t", "completed": value}),
        ("POST", "/v1/conversations", {"title": value}),
        ("POST", "/v1/conversations", {"metadata": value}),
        ("POST", "/v1/conversations", {"metadata": {"k": value}}),
        ("PATCH", "/v1/users/me", {"email": value}),
    ]
    for method, path, body in attempts:
        check_error(await client.request(method, path, json=body, headers=bob.headers), 422)
    assert await _snapshot(db) == before


@pytest.mark.parametrize("query", [
    "completed[$ne]=null", "completed=%7B%22%24ne%22%3Anull%7D", "user_id=anything",
    "cursor[$gt]=", "order[$ne]=asc",
])
async def test_operators_in_query_strings_give_422_or_only_own_data(client, bob, alices_data,
                                                                    query):
    for path in ("/v1/tasks", "/v1/conversations",
                 f"/v1/conversations/{alices_data['conversation_id']}/messages"):
        response = await client.get(f"{path}?{query}", headers=bob.headers)
        if response.status_code == 200:
            assert response.json()["data"] == []
        else:
            assert response.status_code in (404, 422), response.text


@pytest.mark.parametrize("bad_id", ["abc", "0" * 23, "0" * 25, "zzzzzzzzzzzzzzzzzzzzzzzz",
                                    '{"$ne":null}', "%24ne"])
async def test_malformed_ids_in_paths_are_422(client, alice, bad_id):
    for path in (f"/v1/tasks/{bad_id}", f"/v1/conversations/{bad_id}",
                 f"/v1/conversations/{ObjectId()}/messages/{bad_id}"):
        error = check_error(await client.get(path, headers=alice.headers), 422, "invalid_input")
        assert error["details"][0]["message"] == "must be an id: 24 hexadecimal digits", error
