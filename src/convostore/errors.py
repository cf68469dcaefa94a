"""Errors the service raises, each with the HTTP status and code it is answered with."""

from typing import Any


class ServiceError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotAuthenticated(ServiceError):
    status_code = 401
    code = "not_authenticated"


class NotAllowed(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class TooManyConcurrentAppends(Conflict):
    code = "too_many_concurrent_appends"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class IdempotentResultDeleted(Conflict):
    code = "idempotent_result_deleted"


class IdempotentRequestInProgress(Conflict):
    code = "idempotent_request_in_progress"


class PreconditionFailed(ServiceError):
    status_code = 412
    code = "precondition_failed"


class InvalidInput(ServiceError):
    status_code = 422
    code = "invalid_input"
