"""Bearer tokens: HS256 JWTs whose `sub` is a user id and whose `scope` may grant admin."""

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from bson import ObjectId

from convostore.config import Settings

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
ADMIN_SCOPE = "admin"
SECRET_FILE_NAME = "jwt-secret"


class InvalidToken(Exception):
    """The token is missing a claim, expired, or not signed with our key and algorithm."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: ObjectId
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes


def load_jwt_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the data directory."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()

    path = Path(settings.data_dir) / SECRET_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes and the other reads.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as secret_file:
        secret = secrets.token_urlsafe(48)
        secret_file.write(secret)
    logger.info("generated a token signing key in %s (readable by its owner only)", path)
    return secret


def issue_token(secret: str, user_id: ObjectId | str, *, admin: bool = False,
                ttl_seconds: int = 3600) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if admin:
        claims["scope"] = ADMIN_SCOPE
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None

    subject = claims["sub"]
    if not isinstance(subject, str) or not ObjectId.is_valid(subject):
        raise InvalidToken("the token's subject is not a user id")
    scope = claims.get("scope", "")
    scopes = frozenset(scope.split() if isinstance(scope, str) else [])
    return TokenClaims(ObjectId(subject), scopes)
