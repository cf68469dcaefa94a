"""Small helpers shared by the API tests."""

from typing import Any

from httpx import AsyncClient, Response

from tests.conftest import Caller


def check(response: Response, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def check_error(response: Response, status: int, code: str | None = None) -> dict:
    """An error answer: the status, and the one documented shape."""
    body = check(response, status)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


async def create_conversation(client: AsyncClient, caller: Caller, **body: Any) -> dict:
    response = await client.post("/v1/conversations", json=body, headers=caller.headers)
    return check(response, 201)


async def append(client: AsyncClient, caller: Caller, conversation_id: str, content: str,
                 role: str = "user", **extra: Any) -> dict:
    response = await client.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": role, "content": content, **extra},
        headers=caller.headers,
    )
    return check(response, 201)


async def page_through(client: AsyncClient, caller: Caller, path: str,
                       **params: Any) -> list[dict]:
    """Every item of a listing, following next_cursor to the end."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = check(await client.get(path, params=query, headers=caller.headers), 200)
        items.extend(page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return items
        cursor = page["next_cursor"]
