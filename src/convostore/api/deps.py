"""Dependencies shared by the routers: the caller's user, and admin rights."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from convostore.auth import InvalidToken, TokenClaims, decode_token
from convostore.errors import NotAllowed, NotAuthenticated
from convostore.models import User

_bearer = HTTPBearer(auto_error=False, description="A token from `convostore token USER_ID`.")


# Async, though it awaits nothing: a plain function would be sent to a worker thread, and that
# hop cost more than checking the token's signature.
async def _claims(
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
