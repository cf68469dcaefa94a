from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, Query, Response, status

from convostore.api.deps import CurrentUser
from convostore.api.pagination import (
    DEFAULT_PAGE_SIZE,
    CursorParam,
    PageSize,
    newest_first_page,
)
from convostore.models import Task
from convostore.schemas.tasks import TaskCreate, TaskPublic, TaskReplace, TasksPage, TaskUpdate
from convostore.services.owned import delete_owned, find_owned, update_owned

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskPublic)
async def create_task(body: TaskCreate, user: CurrentUser) -> Task:
    """Create a task for the caller."""
    task = Task(user_id=user.id, **body.model_dump())
    await task.insert()
    return task

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
async def read_task(task_id: PydanticObjectId, user: CurrentUser) -> Task:
    """One of the caller's tasks."""
    return await find_owned(Task, user.id, "task", _id=task_id)

@router.put("/{task_id}", response_model=TaskPublic)
async def replace_task(task_id: PydanticObjectId, body: TaskReplace, user: CurrentUser) -> Task:
    """Replace every client-owned field of a task."""
    return await update_owned(Task, user.id, "task", body.model_dump(), _id=task_id)

@router.patch("/{task_id}", response_model=TaskPublic)
async def update_task(task_id: PydanticObjectId, body: TaskUpdate, user: CurrentUser) -> Task:
    """Change some fields of a task."""
    return await update_owned(Task, user.id, "task", body.changes(), _id=task_id)

@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: PydanticObjectId, user: CurrentUser) -> Response:
    """Delete a task."""
    await delete_owned(Task, user.id, "task", _id=task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
