"""What one API process remembers for a moment, so that a burst of requests from one user
costs one database read, not one per request.

Each process forgets an entry the moment it changes or erases what the entry describes.
Another API process may go on trusting its own entry for up to `ttl` seconds; what that
allows is described where each cache is used.
"""

from bson import ObjectId
from cachetools import TTLCache

from convostore.models import User

# Enough for every user active within `ttl`; the least recently used go first beyond it.
MAX_ENTRIES = 10_000
# Longer than any append that was under way when its conversation was deleted.
REMEMBER_DELETED_SECONDS = 60.0


class RecentUsers:
    """The users behind recently seen tokens."""

    def __init__(self, ttl: float) -> None:
        self._users: TTLCache[ObjectId, User] = TTLCache(MAX_ENTRIES, ttl)

    async def get(self, user_id: ObjectId) -> User | None:
        user = self._users.get(user_id)
        if user is None:
            user = await User.get(user_id)
            if user is not None:
                self._users[user_id] = user
        return user

    def forget(self, user_id: ObjectId) -> None:
        self._users.pop(user_id, None)


class RecentConversations:
    """Conversations recently confirmed as their owner's, with their `last_seq` then.

    The `last_seq` is a lower bound, since appends only raise it: enough to aim a read of the
    history at the right `seq` window, or to guess what an append's conditional update should
    expect; never trusted as the conversation's length.
    """

    def __init__(self, ttl: float) -> None:
        self._last_seqs: TTLCache[tuple[ObjectId, ObjectId], int] = TTLCache(MAX_ENTRIES, ttl)
        # Conversations this process deleted: an append that was under way may finish after
        # the delete, and must not make this process remember the conversation again.
        self._deleted: TTLCache[tuple[ObjectId, ObjectId], bool] = TTLCache(
            MAX_ENTRIES, REMEMBER_DELETED_SECONDS
        )

    def last_seq(self, user_id: ObjectId, conversation_id: ObjectId) -> int | None:
        return self._last_seqs.get((user_id, conversation_id))

    def remember(self, user_id: ObjectId, conversation_id: ObjectId, last_seq: int) -> None:
        if (user_id, conversation_id) not in self._deleted:
            self._last_seqs[(user_id, conversation_id)] = last_seq

    def forget(self, user_id: ObjectId, conversation_id: ObjectId) -> None:
        """The conversation was deleted: read it again, however recently it was seen."""
        self._last_seqs.pop((user_id, conversation_id), None)
        self._deleted[(user_id, conversation_id)] = True
