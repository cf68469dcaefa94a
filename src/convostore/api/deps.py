"""Dependencies shared by the routers: the caller's user, and admin rights."""

import time
from typing import Annotated

from bson import ObjectId
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from convostore.auth import InvalidToken, TokenClaims, decode_token
from convostore.errors import NotAllowed, NotAuthenticated
from convostore.models import User

_bearer = HTTPBearer(auto_error=False, description="A token from `convostore token USER_ID`.")


def _claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    if credentials is None:
        raise NotAuthenticated("an 'Authorization: Bearer <token>' header is required")
    try:
        return decode_token(request.app.state.jwt_secret, credentials.credentials)
    except InvalidToken as error:
        raise NotAuthenticated(f"the token is not valid: {error}") from None


Claims = Annotated[TokenClaims, Depends(_claims)]


class RecentUsers:
    """Users looked up in the last `ttl` seconds, so that a burst of requests from one user
    costs one database read, not one per request.

    This process forgets a user the moment it changes or erases them; another API process
    may go on accepting an erased user's token for up to `ttl` seconds (the erasure's second
    sweep removes anything written meanwhile).
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._users: dict[ObjectId, tuple[float, User]] = {}

    async def get(self, user_id: ObjectId) -> User | None:
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = await User.get(user_id)
        if user is None:
            self._users.pop(user_id, None)
        else:
            if len(self._users) > MAX_RECENT_USERS:
                self._users.clear()
            self._users[user_id] = (now + self.ttl, user)
        return user

    def forget(self, user_id: ObjectId) -> None:
        self._users.pop(user_id, None)


MAX_RECENT_USERS = 10_000


async def _current_user(request: Request, claims: Claims) -> User:
    user = await request.app.state.recent_users.get(claims.user_id)
    if user is None:
        # The token may be genuine, but its user has been deleted.
        raise NotAuthenticated("the token's user does not exist")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


async def _admin(claims: Claims, user: CurrentUser) -> User:
    if not claims.is_admin:
        raise NotAllowed("this route needs a token with the admin scope")
    return user


AdminUser = Annotated[User, Depends(_admin)]
