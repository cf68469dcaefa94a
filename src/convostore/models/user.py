from typing import Annotated

from pydantic import AfterValidator, EmailStr
from pymongo import ASCENDING, IndexModel

from convostore.models.base import TimestampedDocument, timestamp_indexes
from convostore.models.fields import text

Email = Annotated[EmailStr, AfterValidator(str.lower)]
UserName = text(max_length=200)


class User(TimestampedDocument):
    """Someone who talks to the chatbot; every other document belongs to one user."""

    email: Email
    name: UserName = ""

    class Settings:
        name = "users"
        indexes = [
            *timestamp_indexes(),
            IndexModel([("email", ASCENDING)], name="email_unique", unique=True),
        ]
