from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from convostore.api.deps import CurrentUser
from convostore.api.etags import IfMatchHeader, etag_of, if_match_allows
from convostore.api.pagination import (
    DEFAULT_PAGE_SIZE,
    CursorParam,
    PageSize,
    newest_first_page,
)
from convostore.errors import NotFound, PreconditionFailed
from convostore.models import Task
from convostore.schemas.common import ErrorBody, PathId
from convostore.schemas.tasks import TaskCreate, TaskPublic, TaskReplace, TasksPage, TaskUpdate
from convostore.services.owned import delete_owned, find_owned, set_fields, update_owned

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


def _with_etag(task: Task, response: Response) -> TaskPublic:
    public = TaskPublic.model_validate(task)
    response.headers["ETag"] = etag_of(public)
    return public


async def _change_task(
    task_id: PathId, user: CurrentUser, changes: dict, if_match: str | None
) -> Task:
    """Apply `changes`; with `If-Match`, only to the exact state that ETag names."""
    if if_match is None:
        return await update_owned(Task, user.id, "task", changes, _id=task_id)

    current = await find_owned(Task, user.id, "task", _id=task_id)
    if not if_match_allows(if_match, etag_of(TaskPublic.model_validate(current))):
        raise PreconditionFailed("the task does not match that ETag; read it again")
    # The filter pins every stored field, so a write that lands in between is detected.
    unchanged = current.model_dump(include=set(TaskPublic.model_fields) - {"id"})
    try:
        return await set_fields(Task, {"_id": current.id, **unchanged}, "task", changes)
    except NotFound:
        await find_owned(Task, user.id, "task", _id=task_id)  # 404 if it is gone
        raise PreconditionFailed("the task changed while this request ran") from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskPublic)
async def create_task(body: TaskCreate, user: CurrentUser, response: Response) -> TaskPublic:
    """Create a task for the caller. The answer carries its ETag."""
    task = Task(user_id=user.id, **body.model_dump())
    await task.insert()
    return _with_etag(task, response)


@router.get("", response_model=TasksPage)
async def list_tasks(
    user: CurrentUser,
    completed: Annotated[bool | None, Query(description="Only done, or only open, tasks.")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: CursorParam = None,
) -> TasksPage:
    """The caller's tasks, newest first."""
    query: dict = {"user_id": user.id}
    if completed is not None:
        query["completed"] = completed
    tasks, has_more, next_cursor = await newest_first_page(
        Task, query, "created_at", f"tasks:{completed}", limit, cursor
    )
    return TasksPage(
        data=[TaskPublic.model_validate(task) for task in tasks],
        has_more=has_more,
        next_cursor=next_cursor,
    )


@router.get("/{task_id}", response_model=TaskPublic)
async def read_task(task_id: PathId, user: CurrentUser,
                    response: Response) -> TaskPublic:
    """One of the caller's tasks, with its ETag."""
    return _with_etag(await find_owned(Task, user.id, "task", _id=task_id), response)


@router.put("/{task_id}", response_model=TaskPublic, responses={412: {"model": ErrorBody}})
async def replace_task(
    task_id: PathId,
    body: TaskReplace,
    user: CurrentUser,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TaskPublic:
    """Replace every client-owned field of a task (only if `If-Match` still holds)."""
    task = await _change_task(task_id, user, body.model_dump(), if_match)
    return _with_etag(task, response)


@router.patch("/{task_id}", response_model=TaskPublic, responses={412: {"model": ErrorBody}})
async def update_task(
    task_id: PathId,
    body: TaskUpdate,
    user: CurrentUser,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TaskPublic:
    """Change some fields of a task (only if `If-Match` still holds)."""
    task = await _change_task(task_id, user, body.changes(), if_match)
    return _with_etag(task, response)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: PathId, user: CurrentUser) -> Response:
    """Delete a task."""
    await delete_owned(Task, user.id, "task", _id=task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
