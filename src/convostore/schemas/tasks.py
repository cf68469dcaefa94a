from pydantic import StrictBool

from convostore.models.fields import ClientTime
from convostore.models.task import TaskDescription, TaskTitle
from convostore.schemas.common import (
    Id,
    Page,
    PartialUpdate,
    PublicDocument,
    RequestBody,
    UTCDateTime,
)


class TaskCreate(RequestBody):
    title: TaskTitle
    description: TaskDescription = ""
    completed: StrictBool = False
    due_at: ClientTime | None = None


class TaskReplace(TaskCreate):
    """PUT: every field the client owns; an omitted one takes its default."""


class TaskUpdate(PartialUpdate):
    """PATCH: only the fields sent change; `due_at: null` clears the due date."""

    not_nullable = ("title", "description", "completed")

    title: TaskTitle | None = None
    description: TaskDescription | None = None
    completed: StrictBool | None = None
    due_at: ClientTime | None = None


class TaskPublic(PublicDocument):
    user_id: Id
    title: str
    description: str
    completed: bool
    due_at: UTCDateTime | None


TasksPage = Page[TaskPublic]
