"""401 for every way a token can be wrong; 403 for a missing admin scope."""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from convostore.auth import issue_token
from tests.conftest import JWT_SECRET
from tests.helpers import check, check_error


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims(user_id: str, **extra) -> dict:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    return {"sub": user_id, "exp": int(expires.timestamp()), **extra}


TOKENS = {
    "expired": lambda uid: jwt.encode(
        {"sub": uid, "exp": datetime.now(UTC) - timedelta(seconds=5)}, JWT_SECRET, "HS256"),
    "wrong-key": lambda uid: jwt.encode(_claims(uid), "another-secret-" * 4, "HS256"),
    "alg-none": lambda uid: _unsigned(_claims(uid)),
    "hs512": lambda uid: jwt.encode(_claims(uid), JWT_SECRET, "HS512"),
    "no-sub": lambda uid: jwt.encode({"exp": datetime.now(UTC) + timedelta(minutes=5)},
                                     JWT_SECRET, "HS256"),
    "no-exp": lambda uid: jwt.encode({"sub": uid}, JWT_SECRET, "HS256"),
    "sub-not-an-id": lambda uid: jwt.encode(_claims("alice"), JWT_SECRET, "HS256"),
    "sub-unknown-user": lambda uid: jwt.encode(_claims("0123456789abcdef01234567"),
                                               JWT_SECRET, "HS256"),
    "malformed": lambda uid: "not.a.token",
}


@pytest.mark.parametrize("kind", TOKENS)
async def test_bad_tokens_are_refused(client, alice, kind):
    token = TOKENS[kind](alice.id)
    response = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    check_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_missing_and_non_bearer_authorization(client, alice):
    check_error(await client.get("/v1/tasks"), 401)
    check_error(await client.get("/v1/tasks", headers={"Authorization": "Basic YTpi"}), 401)


async def test_a_deleted_users_token_is_refused(client, alice):
    assert (await client.delete("/v1/users/me", headers=alice.headers)).status_code == 204
    check_error(await client.get("/v1/tasks", headers=alice.headers), 401)


async def test_admin_scope_is_needed_for_admin_routes(client, alice):
    token = issue_token(JWT_SECRET, alice.user.id, admin=True)
    response = await client.post("/v1/users", json={"email": "new@example.com"},
                                 headers={"Authorization": f"Bearer {token}"})
    check(response, 201)
    forged = jwt.encode(_claims(alice.id, scope="user"), JWT_SECRET, "HS256")
    response = await client.post("/v1/users", json={"email": "new2@example.com"},
                                 headers={"Authorization": f"Bearer {forged}"})
    check_error(response, 403)


async def test_health_routes_need_no_token(client):
    assert check(await client.get("/healthz"), 200) == {"status": "ok"}
    assert check(await client.get("/readyz"), 200)["status"] == "ready"
