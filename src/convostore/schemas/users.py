from convostore.models.user import Email, UserName
from convostore.schemas.common import PartialUpdate, PublicDocument, RequestBody


class UserCreate(RequestBody):
    email: Email
    name: UserName = ""


class UserUpdate(PartialUpdate):
    not_nullable = ("email", "name")
    email: Email | None = None
    name: UserName | None = None


class UserPublic(PublicDocument):
    email: str
    name: str
