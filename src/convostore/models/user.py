from typing import Annotated

from pydantic import AfterValidator, EmailStr, StringConstraints
from pymongo import ASCENDING, IndexModel

from convostore.models.base import TimestampedDocument, timestamp_indexes
from convostore.models.fields import Text

Email = Annotated[EmailStr, AfterValidator(str.lower)]
UserName = Annotated[Text, StringConstraints(max_length=200)]


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
