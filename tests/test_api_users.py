from convostore.models import Task
from tests.conftest import make_caller
from tests.helpers import check, check_error, create_conversation


async def test_admin_creates_a_user_and_the_email_is_stored_lower_case(client, admin, db):
    response = await client.post(
        "/v1/users", json={"email": "Carol@Example.COM", "name": "Carol"}, headers=admin.headers
    )
    user = check(response, 201)
    assert user["email"] == "carol@example.com"
    assert user["created_at"] == user["updated_at"]
    assert (await db["users"].find_one({"email": "carol@example.com"})) is not None


async def test_creating_a_user_with_a_taken_email_conflicts(client, admin, alice):
    response = await client.post(
        "/v1/users", json={"email": "ALICE@example.com"}, headers=admin.headers
    )
    check_error(response, 409, "conflict")


async def test_creating_a_user_needs_the_admin_scope(client, alice, db):
    response = await client.post("/v1/users", json={"email": "x@example.com"},
                                 headers=alice.headers)
    check_error(response, 403, "forbidden")
    assert await db["users"].count_documents({"email": "x@example.com"}) == 0


async def test_invalid_email_is_refused(client, admin):
    response = await client.post("/v1/users", json={"email": "not-an-email"},
                                 headers=admin.headers)
    check_error(response, 422, "invalid_input")


async def test_read_and_update_me(client, alice):
    me = check(await client.get("/v1/users/me", headers=alice.headers), 200)
    assert me["id"] == alice.id

    response = await client.patch("/v1/users/me", json={"name": "Alice A."},
                                  headers=alice.headers)
    updated = check(response, 200)
    assert updated["name"] == "Alice A."
    assert updated["created_at"] == me["created_at"]
    assert updated["updated_at"] > me["updated_at"]
    assert check(await client.get("/v1/users/me", headers=alice.headers), 200) == updated


async def test_update_me_to_a_taken_email_conflicts(client, alice, bob):
    response = await client.patch("/v1/users/me", json={"email": "bob@example.com"},
                                  headers=alice.headers)
    check_error(response, 409)


async def test_delete_me_erases_everything_of_mine_and_nothing_of_others(client, alice, bob, db):
    mine = await create_conversation(client, alice)
    theirs = await create_conversation(client, bob)
    for caller, conversation in ((alice, mine), (bob, theirs)):
        await client.post(f"/v1/conversations/{conversation['id']}/messages",
                          json={"role": "user", "content": "hi"}, headers=caller.headers)
        await client.post("/v1/tasks", json={"title": "t"}, headers=caller.headers)

    response = await client.delete("/v1/users/me", headers=alice.headers)
    assert response.status_code == 204

    for collection in ("tasks", "conversations", "messages"):
        assert await db[collection].count_documents({"user_id": alice.user.id}) == 0
        assert await db[collection].count_documents({"user_id": bob.user.id}) == 1
    assert await db["users"].count_documents({"_id": alice.user.id}) == 0
    check_error(await client.get("/v1/users/me", headers=alice.headers), 401)


async def test_a_new_users_token_works(client, app):
    carol = await make_caller("carol@example.com")
    assert check(await client.get("/v1/users/me", headers=carol.headers), 200)["id"] == carol.id


async def test_data_written_by_a_request_in_flight_during_erasure_is_swept(client, app, alice,
                                                                        db):
    assert (await client.delete("/v1/users/me", headers=alice.headers)).status_code == 204
    # As a request authenticated just before the erasure would, after it:
    await Task(user_id=alice.user.id, title="late").insert()

    await app.state.late_sweeper.flush()
    assert await db["tasks"].count_documents({"user_id": alice.user.id}) == 0
