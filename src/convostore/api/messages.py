from typing import Annotated, Any, Literal

from beanie import PydanticObjectId
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse

from convostore.api.deps import CurrentUser
from convostore.api.pagination import (
    DEFAULT_PAGE_SIZE,
    BadCursor,
    CursorParam,
    PageSize,
    decode_cursor,
    encode_cursor,
    page_of,
)
from convostore.models import Conversation, Message
from convostore.schemas.common import PathId
from convostore.schemas.messages import (
    MessageBatch,
    MessageBatchCreate,
    MessageCreate,
    MessagePublic,
    MessagesPage,
    MessageUpdate,
)
from convostore.services.history import MAX_SEQ, Order, messages_after
from convostore.services.messages import (
    append_messages,
    append_messages_once,
    delete_message,
    drafts_from,
    edit_message,
)
from convostore.services.owned import find_owned

router = APIRouter(prefix="/v1/conversations/{conversation_id}/messages", tags=["messages"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a retried request safe: a repeat returns what the first one stored.",
    ),
]


async def _append(
    request: Request,
    conversation_id: PathId,
    user: CurrentUser,
    bodies: list[MessageCreate],
    idempotency_key: str | None,
) -> tuple[list[dict[str, Any]], int]:
    """Append and return the messages, with 201, or 200 for a replayed Idempotency-Key.

    The `last_seq` this process last saw spares the append a read of the conversation
    while no other append came in between; a wrong one costs a failed update, never a seq.
    """
    drafts = drafts_from(bodies)
    recent = request.app.state.recent_conversations
    hint = recent.last_seq(user.id, conversation_id)
    if idempotency_key is None:
        messages = await append_messages(conversation_id, user.id, drafts, last_seq_hint=hint)
        created = True
    else:
        ttl = request.app.state.settings.idempotency_ttl_seconds
        messages, created = await append_messages_once(
            conversation_id, user.id, drafts, idempotency_key, ttl, last_seq_hint=hint
        )

    if created:
        recent.remember(user.id, conversation_id, messages[-1]["seq"])
    return messages, status.HTTP_201_CREATED if created else status.HTTP_200_OK


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
    responses={200: {"model": MessagePublic, "description": "A replayed Idempotency-Key."}},
)
async def append_message(
    request: Request,
    conversation_id: PathId,
    body: MessageCreate,
    user: CurrentUser,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Append a message to a conversation; it gets the next `seq`."""
    messages, status_code = await _append(
        request, conversation_id, user, [body], idempotency_key
    )
    public = MessagePublic.model_validate(messages[0])
    return JSONResponse(public.model_dump(mode="json"), status_code=status_code)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageBatch,
    responses={200: {"model": MessageBatch, "description": "A replayed Idempotency-Key."}},
)
async def append_message_batch(
    request: Request,
    conversation_id: PathId,
    body: MessageBatchCreate,
    user: CurrentUser,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Append up to 100 messages, in the given order, with consecutive `seq`."""
    messages, status_code = await _append(
        request, conversation_id, user, body.messages, idempotency_key
    )
    batch = MessageBatch(data=[MessagePublic.model_validate(m) for m in messages])
    return JSONResponse(batch.model_dump(mode="json"), status_code=status_code)


async def _history(
    request: Request,
    user_id: PydanticObjectId,
    conversation_id: PydanticObjectId,
    order: Order,
    after_seq: int | None,
    count: int,
) -> list[dict[str, Any]]:
    """The page's messages, reading the conversation itself only when this process has not
    confirmed it as the user's within the last `cache_seconds`.

    Found messages prove the conversation is the user's, since the read names the user. An
    empty read may mean a missing conversation, so it asks the conversation before answering.
    Another API process may list, for up to `cache_seconds`, messages of a conversation
    deleted in the middle of that time, as if the listing had come just before the delete.
    """
    recent = request.app.state.recent_conversations
    known_last_seq = recent.last_seq(user_id, conversation_id)
    if known_last_seq is not None:
        found = await messages_after(conversation_id, user_id, known_last_seq, order,
                                     after_seq, count)
        if found:
            return found

    conversation = await find_owned(Conversation, user_id, "conversation", _id=conversation_id)
    recent.remember(user_id, conversation_id, conversation.last_seq)
    return await messages_after(conversation_id, user_id, conversation.last_seq, order,
                                after_seq, count)


@router.get("", response_model=MessagesPage)
async def list_messages(
    request: Request,
    conversation_id: PathId,
    user: CurrentUser,
    order: Annotated[Literal["asc", "desc"], Query(description="By `seq`.")] = "asc",
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: CursorParam = None,
) -> Response:
    """A conversation's messages in `seq` order; new messages never disturb a paging client."""
    listing = f"messages:{conversation_id}:{order}"
    after_seq = None
    if cursor is not None:
        after_seq = decode_cursor(cursor, listing).get("seq")
        if type(after_seq) is not int or not 0 <= after_seq <= MAX_SEQ:
            raise BadCursor()

    found = await _history(request, user.id, conversation_id, order, after_seq, limit + 1)
    messages, has_more = page_of(found, limit)
    next_cursor = encode_cursor(listing, {"seq": messages[-1]["seq"]}) if has_more else None
    page = MessagesPage(
        data=[MessagePublic.model_validate(m) for m in messages],
        has_more=has_more,
        next_cursor=next_cursor,
    )
    # Already validated: answering the JSON directly spares FastAPI a second validation.
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{message_id}", response_model=MessagePublic)
async def read_message(
    conversation_id: PathId, message_id: PathId, user: CurrentUser
) -> Message:
    """One message."""
    return await find_owned(
        Message, user.id, "message", _id=message_id, conversation_id=conversation_id
    )


@router.patch("/{message_id}", response_model=MessagePublic)
async def update_message(
    conversation_id: PathId,
    message_id: PathId,
    body: MessageUpdate,
    user: CurrentUser,
) -> Message:
    """Change a message's content or metadata; the conversation's `updated_at` moves too."""
    return await edit_message(conversation_id, user.id, message_id, body.changes())


@router.delete("/{message_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_message(
    conversation_id: PathId, message_id: PathId, user: CurrentUser
) -> Response:
    """Delete a message; the others keep their `seq`."""
    await delete_message(conversation_id, user.id, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
