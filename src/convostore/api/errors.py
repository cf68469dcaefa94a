"""Every error answer has one shape: {"error": {"code", "message", "details"}}."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException

from convostore.errors import ServiceError

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    503: "database_unavailable",
}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(body, status_code=status_code, headers=headers)


# A body can hold thousands of problems (one per unknown key); the first ones are enough.
MAX_ERROR_DETAILS = 20


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for problem in error.errors()[:MAX_ERROR_DETAILS]:
        # The offending input is left out: it may be huge, or not JSON at all.
        details.append({
            # Names, and list positions as numbers: ["body", "messages", 1, "role"].
            "loc": [part if isinstance(part, int) else str(part)
                    for part in problem.get("loc", ())],
            # A check of convostore's own says what is wrong; pydantic's prefix adds nothing.
            "message": problem.get("msg", "").removeprefix("Value error, "),
            "type": problem.get("type", ""),
        })
    return jsonable_encoder(details)


async def _service_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
    return error_response(error.status_code, error.code, error.message, error.details, headers)


async def _invalid_request(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(422, "invalid_input", "the request is not valid",
                          _validation_details(error))


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    return error_response(error.status_code, code, message, headers=error.headers)


async def _duplicate_key(_: Request, error: Exception) -> JSONResponse:
    return error_response(409, "conflict", "a document with the same unique value exists")


async def _database_unavailable(_: Request, error: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", type(error).__name__)
    return error_response(503, "database_unavailable", "the database is not reachable; retry",
                          headers={"Retry-After": "1"})


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "something went wrong on the server")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DuplicateKeyError, _duplicate_key)
    app.add_exception_handler(ServerSelectionTimeoutError, _database_unavailable)
    app.add_exception_handler(ConnectionFailure, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
