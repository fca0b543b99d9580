"""Every failure leaves as application/problem+json with a stable code: the one mapping from errors to HTTP."""

from __future__ import annotations

import logging
import re

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)

from domain import errors as domain
from persistence.database import DatabaseBusy
from server.mail import MailNotSent
from server.zoom_client import ZoomRateLimited, ZoomUnavailable

log = logging.getLogger("roomlink")

PROBLEM_JSON = "application/problem+json"

_STATUS = {
    domain.NotFound: 404,
    domain.InvalidInput: 400,
    domain.BatchTooLarge: 413,
    domain.Forbidden: 403,
    domain.Conflict: 409,
    domain.ZoomRefused: 502,
    domain.ActivationLinkUnusable: 410,
    domain.Unavailable: 503,
}


class Problem(Exception):
    """An HTTP-level failure that has no domain meaning (authentication, content type...)."""

    def __init__(self, status: int, code: str, detail: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or {}


def problem_response(status: int, code: str, detail: str, errors: dict[str, str] | None = None) -> Response:
    body: dict[str, object] = {"status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


def _status_of(error: domain.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def on_domain_error(_: Request, error: domain.DomainError) -> Response:
    return problem_response(_status_of(error), error.code, error.detail, error.errors)


def on_problem(_: Request, error: Problem) -> Response:
    return problem_response(error.status, error.code, error.detail, error.errors)


#: What a person should read instead of msgspec's regular expressions.
_FORMAT_HINTS = {
    "email": "must be an email address",
    "user_id": "must be 1–128 characters of letters, digits and . _ : -",
}

_MSGSPEC_LOCATION = re.compile(r"(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def on_validation_error(_: Request, error: ValidationException) -> Response:
    errors: dict[str, str] = {}
    for item in error.extra if isinstance(error.extra, list) else []:
        message = str(item.get("message", "is invalid"))
        match = _MSGSPEC_LOCATION.match(message)
        path = (match.group("path") or "").lstrip(".") if match else ""
        field = path or str(item.get("key") or "body")
        text = match.group("message") if match else message
        if "matching regex" in text:
            text = _FORMAT_HINTS.get(field.rsplit(".", 1)[-1], "has an invalid format")
        errors[field] = text
    return problem_response(400, "validation_failed", "The request is invalid; nothing was changed.", errors)


def on_http_error(_: Request, error: HTTPException) -> Response:
    if isinstance(error, NotFoundException):
        return problem_response(404, "not_found", "There is nothing at this address.")
    if isinstance(error, MethodNotAllowedException):
        return problem_response(405, "method_not_allowed", "This address does not accept that method.")
    if error.status_code == 400:
        return problem_response(400, "malformed_json", f"The request body is not valid JSON: {error.detail}.")
    code = {401: "authentication_required", 403: "forbidden", 413: "request_too_large"}.get(
        error.status_code, "http_error"
    )
    return problem_response(error.status_code, code, str(error.detail))


def on_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal_error", "Something went wrong on our side; nothing secret is shown here.")


def on_zoom_unavailable(_: Request, error: Exception) -> Response:
    return problem_response(502, "zoom_unavailable", f"Zoom could not be reached; nothing was changed. ({error})")


def on_zoom_rate_limited(_: Request, error: ZoomRateLimited) -> Response:
    response = problem_response(
        503, "zoom_rate_limited", "Zoom is limiting how often Roomlink may call it; nothing was changed. Try again later."
    )
    if error.retry_after_s is not None:
        response.headers["Retry-After"] = str(int(error.retry_after_s) + 1)
    return response


def on_database_busy(_: Request, error: DatabaseBusy) -> Response:
    log.warning("database pool exhausted: answering 503")
    response = problem_response(503, "database_busy", "Roomlink is overloaded right now; nothing was changed. Try again shortly.")
    response.headers["Retry-After"] = "1"
    return response


def on_mail_not_sent(_: Request, error: Exception) -> Response:
    return problem_response(502, "email_not_sent", "The email could not be sent; nothing was changed.")


EXCEPTION_HANDLERS = {
    ZoomRateLimited: on_zoom_rate_limited,
    ZoomUnavailable: on_zoom_unavailable,
    MailNotSent: on_mail_not_sent,
    DatabaseBusy: on_database_busy,
    domain.DomainError: on_domain_error,
    Problem: on_problem,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    Exception: on_unexpected_error,
}
