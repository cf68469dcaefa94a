import asyncio

from tests.helpers import check, check_error, page_through


async def create_task(client, caller, **body):
    return check(await client.post("/v1/tasks", json={"title": "t", **body},
                                   headers=caller.headers), 201)


async def test_create_read_and_list(client, alice):
    task = await create_task(client, alice, title="Buy milk", due_at="2027-01-02T03:04:05+01:00")
    assert task["user_id"] == alice.id
    assert task["completed"] is False
    assert task["due_at"] == "2027-01-02T02:04:05.000Z"
    assert task["created_at"].endswith("Z") and len(task["created_at"]) == 24

    assert check(await client.get(f"/v1/tasks/{task['id']}", headers=alice.headers), 200) == task
    page = check(await client.get("/v1/tasks", headers=alice.headers), 200)
    assert page == {"data": [task], "has_more": False, "next_cursor": None}


async def test_filter_by_completed(client, alice):
    done = await create_task(client, alice, title="done", completed=True)
    todo = await create_task(client, alice, title="todo")

    listed = check(await client.get("/v1/tasks?completed=true", headers=alice.headers), 200)
    assert [t["id"] for t in listed["data"]] == [done["id"]]
    listed = check(await client.get("/v1/tasks?completed=false", headers=alice.headers), 200)
    assert [t["id"] for t in listed["data"]] == [todo["id"]]


async def test_put_replaces_client_fields_and_keeps_created_at(client, alice):
    task = await create_task(client, alice, title="a", description="d",
                             due_at="2027-01-01T00:00:00Z")
    await asyncio.sleep(0.005)
    response = await client.put(f"/v1/tasks/{task['id']}", json={"title": "b"},
                                headers=alice.headers)
    replaced = check(response, 200)
    assert replaced["title"] == "b"
    assert replaced["description"] == "" and replaced["due_at"] is None
    assert replaced["created_at"] == task["created_at"]
    assert replaced["updated_at"] > task["updated_at"]


async def test_patch_changes_only_what_was_sent(client, alice):
    task = await create_task(client, alice, title="a", description="keep me")
    response = await client.patch(f"/v1/tasks/{task['id']}", json={"completed": True},
                                  headers=alice.headers)
    patched = check(response, 200)
    assert patched["completed"] is True
    assert patched["description"] == "keep me"
    assert patched["created_at"] == task["created_at"]


async def test_patch_with_null_title_is_refused(client, alice, db):
    task = await create_task(client, alice, title="a")
    response = await client.patch(f"/v1/tasks/{task['id']}", json={"title": None},
                                  headers=alice.headers)
    check_error(response, 422)
    assert (await db["tasks"].find_one())["title"] == "a"


async def test_delete(client, alice):
    task = await create_task(client, alice)
    response = await client.delete(f"/v1/tasks/{task['id']}", headers=alice.headers)
    assert response.status_code == 204
    check_error(await client.get(f"/v1/tasks/{task['id']}", headers=alice.headers), 404)
    check_error(await client.delete(f"/v1/tasks/{task['id']}", headers=alice.headers), 404)


async def test_title_limits(client, alice):
    check_error(await client.post("/v1/tasks", json={"title": ""}, headers=alice.headers), 422)
    check_error(await client.post("/v1/tasks", json={"title": "x" * 501},
                                  headers=alice.headers), 422)
    check_error(await client.post("/v1/tasks", json={"title": "t", "description": "x" * 10_001},
                                  headers=alice.headers), 422)
    await create_task(client, alice, title="x" * 500, description="y" * 10_000)


async def test_completed_must_be_a_boolean(client, alice):
    response = await client.post("/v1/tasks", json={"title": "t", "completed": "yes"},
                                 headers=alice.headers)
    check_error(response, 422)


async def test_paging_returns_every_task_once_newest_first(client, alice):
    created = [await create_task(client, alice, title=f"t{n}") for n in range(7)]
    listed = await page_through(client, alice, "/v1/tasks", limit=3)
    assert [t["id"] for t in listed] == [t["id"] for t in reversed(created)]


async def test_etag_and_if_match_stop_a_stale_edit(client, alice):
    created = await client.post("/v1/tasks", json={"title": "a"}, headers=alice.headers)
    task, etag = check(created, 201), created.headers["etag"]
    path = f"/v1/tasks/{task['id']}"
    assert (await client.get(path, headers=alice.headers)).headers["etag"] == etag

    first = await client.patch(path, json={"title": "first"},
                               headers={**alice.headers, "If-Match": etag})
    check(first, 200)
    assert first.headers["etag"] != etag

    stale = await client.put(path, json={"title": "second"},
                             headers={**alice.headers, "If-Match": etag})
    check_error(stale, 412, "precondition_failed")
    assert check(await client.get(path, headers=alice.headers), 200)["title"] == "first"
    check(await client.patch(path, json={"completed": True},
                             headers={**alice.headers, "If-Match": "*"}), 200)


async def test_two_concurrent_edits_with_the_same_etag_one_wins(client, alice):
    created = await client.post("/v1/tasks", json={"title": "a"}, headers=alice.headers)
    path, etag = f"/v1/tasks/{created.json()['id']}", created.headers["etag"]

    results = await asyncio.gather(*(
        client.patch(path, json={"title": f"edit {n}"},
                     headers={**alice.headers, "If-Match": etag})
        for n in range(2)
    ))
    assert sorted(r.status_code for r in results) == [200, 412]
    winner = next(r.json() for r in results if r.status_code == 200)
    assert check(await client.get(path, headers=alice.headers), 200)["title"] == winner["title"]


async def test_if_match_on_another_users_task_is_404(client, alice, bob):
    created = await client.post("/v1/tasks", json={"title": "a"}, headers=alice.headers)
    path, etag = f"/v1/tasks/{created.json()['id']}", created.headers["etag"]
    check_error(await client.patch(path, json={"title": "b"},
                                   headers={**bob.headers, "If-Match": etag}), 404)
