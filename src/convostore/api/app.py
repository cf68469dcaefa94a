"""The FastAPI application: routers, error handlers, and the database for its lifetime."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from convostore import __version__
from convostore.api import conversations, health, messages, tasks, users
from convostore.api.errors import install_error_handlers
from convostore.api.limits import BodySizeLimit
from convostore.api.recent import RecentConversations, RecentUsers
from convostore.auth import load_jwt_secret
from convostore.config import Settings, get_settings
from convostore.database import connect
from convostore.schemas.common import ErrorBody
from convostore.services.erasure import LateDataSweeper

logger = logging.getLogger(__name__)

# Longer than a request that was under way when something was erased takes to finish.
SWEEP_AGAIN_AFTER_SECONDS = 5.0

_ERROR_RESPONSES = {
    status: {"model": ErrorBody}
    for status in (400, 401, 403, 404, 409, 413, 422, 503)
}


def create_app(settings: Settings | None = None, *, manage_schema: bool | None = None) -> FastAPI:
    """The API. `manage_schema`: see `convostore.database.connect` (default: embedded only)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jwt_secret = load_jwt_secret(settings)
        async with connect(settings, manage_schema=manage_schema) as connection:
            app.state.database = connection.database
            app.state.manages_schema = connection.manages_schema
            app.state.late_sweeper = LateDataSweeper(SWEEP_AGAIN_AFTER_SECONDS)
            app.state.recent_users = RecentUsers(settings.cache_seconds)
            app.state.recent_conversations = RecentConversations(settings.cache_seconds)
            try:
                yield
            finally:
                await app.state.late_sweeper.flush()

    app = FastAPI(
        title="convostore",
        version=__version__,
        description="Users, their tasks, their conversations and every message, in MongoDB.",
        lifespan=lifespan,
        responses=_ERROR_RESPONSES,
        # Starlette would answer "/v1/tasks/" with a redirect built from the Host header.
        redirect_slashes=False,
    )
    app.state.settings = settings

    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )

    app.include_router(health.router)
    for resource in (users, tasks, conversations, messages):
        app.include_router(resource.router)
    return app
