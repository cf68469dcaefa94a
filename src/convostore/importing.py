"""Importing conversations: OpenAI-style chat JSONL, or the chitchat dataset.

A JSONL line is one conversation:
    {"title": ..., "metadata": {...}, "messages": [{"role", "content", "timestamp", "metadata"}]}
Messages are kept exactly as they come, empty ones included, in their order: their `seq` is
their 1-based position and `timestamp` their original time when the source has one.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from convostore.models import Conversation, Message
from convostore.models.conversation import ConversationTitle
from convostore.models.fields import ClientTime, Metadata
from convostore.models.message import Role
from convostore.schemas.messages import MessageContent
from convostore.services.messages import MessageDraft

# Messages written per insert_many; conversations are grouped until a batch is this full.
BATCH_MESSAGES = 2000


class ImportedMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    content: MessageContent
    timestamp: ClientTime | None = None
    metadata: Metadata = Field(default_factory=dict)


class ImportedConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: ConversationTitle | None = None
    metadata: Metadata = Field(default_factory=dict)
    messages: list[ImportedMessage]


@dataclass
class ConversationDraft:
    title: str | None
    metadata: dict[str, str]
    messages: list[MessageDraft]


@dataclass
class ImportReport:
    conversations: int = 0
    messages: int = 0
    skipped: list[str] = field(default_factory=list)


def _draft_from(record: ImportedConversation) -> ConversationDraft:
    return ConversationDraft(
        title=record.title,
        metadata=record.metadata,
        messages=[
            MessageDraft(role=m.role, content=m.content, timestamp=m.timestamp,
                         metadata=m.metadata)
            for m in record.messages
        ],
    )


def read_jsonl(path: Path, report: ImportReport) -> Iterator[ConversationDraft]:
    """Conversations from a JSONL file; a line that is not valid is reported and skipped."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = ImportedConversation.model_validate_json(line)
            except ValidationError as error:
                problem = error.errors(include_url=False)[0]
                where = ".".join(str(part) for part in problem["loc"]) or "line"
                report.skipped.append(f"line {number}: {where}: {problem['msg']}")
                continue
            yield _draft_from(record)


def load_chitchat_dataset() -> dict[str, Any]:
    """The raw chitchat dataset: conversation id -> conversation, in the file's order."""
    # Read the package's data file directly: its own Dataset class leaves the file open.
    try:
        data_file = resources.files("chitchat_dataset") / "dataset.json"
        with data_file.open(encoding="utf-8") as source:
            return json.load(source)
    except ModuleNotFoundError:
        raise RuntimeError(
            "the chitchat dataset is not installed: pip install 'convostore[chitchat]'"
        ) from None


def read_chitchat() -> Iterator[ConversationDraft]:
    """The chitchat dataset's conversations, in the dataset's order.

    Its two speakers become `user` (whoever speaks first) and `assistant`; each message keeps
    its original time in `timestamp` and its speaker's id in `metadata.sender`.
    """
    for source_id, conversation in load_chitchat_dataset().items():
        roles: dict[str, Role] = {}
        messages = []
        for turn in conversation["messages"]:
            for utterance in turn:
                sender = utterance["sender"]
                role = roles.setdefault(sender, Role.USER if not roles else Role.ASSISTANT)
                messages.append({
                    "role": role,
                    "content": utterance["text"],
                    "timestamp": utterance["timestamp"],
                    "metadata": {"sender": sender},
                })
        metadata = {"source": "chitchat", "source_id": source_id}
        if conversation.get("start"):
            metadata["start"] = conversation["start"]
        for name, score in (conversation.get("ratings") or {}).items():
            metadata[f"rating_{name}"] = str(score)
        record = ImportedConversation.model_validate({
            "title": conversation.get("prompt"),
            "metadata": metadata,
            "messages": messages,
        })
        yield _draft_from(record)


def _batches(drafts: Iterable[ConversationDraft]) -> Iterator[list[ConversationDraft]]:
    batch: list[ConversationDraft] = []
    size = 0
    for draft in drafts:
        batch.append(draft)
        size += len(draft.messages)
        if size >= BATCH_MESSAGES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


async def import_conversations(
    user_id: ObjectId,
    drafts: Iterable[ConversationDraft],
    report: ImportReport,
    on_progress: Callable[[int], Any] = lambda messages: None,
) -> ImportReport:
    """Store `drafts` as the user's conversations, in batches; returns what was stored.

    Each batch writes its messages first and its conversations second, so a conversation is
    never listed before its messages exist.
    """
    # Known gap: an import stopped part-way keeps the batches already written and cannot be
    # resumed; running it again stores those conversations a second time.
    for batch in _batches(drafts):
        conversations: list[Conversation] = []
        messages: list[Message] = []
        for draft in batch:
            conversation = Conversation(
                id=ObjectId(),
                user_id=user_id,
                title=draft.title,
                metadata=draft.metadata,
                message_count=len(draft.messages),
                last_seq=len(draft.messages),
            )
            for seq, message in enumerate(draft.messages, start=1):
                messages.append(Message(
                    conversation_id=conversation.id,
                    user_id=user_id,
                    seq=seq,
                    role=message.role,
                    content=message.content,
                    timestamp=message.timestamp or conversation.created_at,
                    metadata=message.metadata,
                ))
            sent_times = [m.timestamp for m in messages[-len(draft.messages):]]
            conversation.last_message_at = max(sent_times) if draft.messages else None
            conversations.append(conversation)

        if messages:
            await Message.insert_many(messages)
        await Conversation.insert_many(conversations)
        report.conversations += len(conversations)
        report.messages += len(messages)
        on_progress(len(messages))
    return report
