"""Settings, read from CONVOSTORE_* environment variables or a `.env` file."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_JWT_SECRET_LENGTH = 32


class Settings(BaseSettings):
    # An empty variable counts as unset (docker compose passes `${VAR:-}` through as "").
    model_config = SettingsConfigDict(
        env_prefix="CONVOSTORE_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    # Where the data lives: a MongoDB URI, or (unset) the embedded server in `data_dir`.
    mongodb_uri: SecretStr | None = None
    database: str = "convostore"
    data_dir: Path = Path(".convostore")
    embedded_port: int | None = Field(default=None, ge=1, le=65535)

    # HS256 key for bearer tokens; generated into `data_dir` when unset.
    jwt_secret: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Limits on what clients send.
    max_message_bytes: int = Field(default=256 * 1024, ge=1)
    max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)

    # How long an API process trusts its last read of a token's user, and of a conversation's
    # owner and last_seq (0: read every time).
    cache_seconds: float = Field(default=1.0, ge=0, le=60)

    # How long a request waits for an unreachable database before answering 503.
    database_timeout_ms: int = Field(default=3000, ge=100)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_LENGTH} characters")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()


def redact_uri(uri: str) -> str:
    """The URI with any password replaced, safe to print or log."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
