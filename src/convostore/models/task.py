
from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from convostore.models.base import TimestampedDocument, timestamp_indexes
from convostore.models.fields import ClientTime, text

TaskTitle = text(min_length=1, max_length=500)
TaskDescription = text(max_length=10_000)


class Task(TimestampedDocument):
    """A to-do item of one user."""

    user_id: PydanticObjectId
    title: TaskTitle
    description: TaskDescription = ""
    completed: bool = False
    due_at: ClientTime | None = None

    class Settings:
        name = "tasks"
        # Lists page newest first on (created_at, _id); _id breaks ties between tasks created
        # in the same millisecond so that paging is exact. Each index also serves its prefix.
        indexes = [
            *timestamp_indexes(),
            IndexModel(
                [("user_id", ASCENDING), ("completed", ASCENDING), ("created_at", ASCENDING),
                 ("_id", ASCENDING)],
                name="user_completed_created",
            ),
            IndexModel(
                [("user_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="user_created",
            ),
        ]
