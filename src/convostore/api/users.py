from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from pymongo.errors import DuplicateKeyError

from convostore.api.deps import AdminUser, CurrentUser
from convostore.errors import Conflict
from convostore.exporting import export_chunks
from convostore.models import User
from convostore.schemas.users import UserCreate, UserPublic, UserUpdate
from convostore.services.erasure import erase_user, erase_user_data
from convostore.services.owned import set_fields

router = APIRouter(prefix="/v1/users", tags=["users"])

EMAIL_TAKEN = "a user with this email exists"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
async def create_user(body: UserCreate, _: AdminUser) -> User:
    """Create a user (admin only)."""
    user = User(email=body.email, name=body.name)
    try:
        await user.insert()
    except DuplicateKeyError:
        raise Conflict(EMAIL_TAKEN) from None
    return user


@router.get("/me", response_model=UserPublic)
async def read_me(user: CurrentUser) -> User:
    """The caller's own user."""
    return user


@router.patch("/me", response_model=UserPublic)
async def update_me(request: Request, body: UserUpdate, user: CurrentUser) -> User:
    """Change the caller's name or email."""
    try:
        return await set_fields(User, {"_id": user.id}, "user", body.changes())
    except DuplicateKeyError:
        raise Conflict(EMAIL_TAKEN) from None
    finally:
        request.app.state.recent_users.forget(user.id)


@router.get(
    "/me/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}},
                     "description": "JSONL, a conversation a line, as `convostore import` reads."}},
)
async def export_me(user: CurrentUser) -> StreamingResponse:
    """All of the caller's conversations as JSONL, streamed (the format `import` reads)."""
    return StreamingResponse(export_chunks(user.id), media_type="application/x-ndjson")


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(request: Request, user: CurrentUser) -> Response:
    """Erase the caller and all of their tasks, conversations and messages."""
    await erase_user(user.id)
    request.app.state.recent_users.forget(user.id)
    request.app.state.late_sweeper.schedule(user.id, erase_user_data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
