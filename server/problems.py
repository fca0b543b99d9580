"""Every failure leaves as application/problem+json with a stable code: the one mapping from errors to HTTP."""

from __future__ import annotations

import logging
import math
import re

import asyncpg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)

from domain import errors as domain
from domain.identifiers import EMAIL_PATTERN, IDENTIFIER_PATTERN, TEXT_PATTERN
from persistence.database import DatabaseBusy, raised_by_the_driver
from persistence.token_cipher import TokenKeyMissing
from server.clock import utcnow
from server.mail import MailNotSent
from server.zoom_client import ZoomDailyLimit, ZoomRateLimited, ZoomUnavailable

log = logging.getLogger("roomlink")

PROBLEM_JSON = "application/problem+json"

_STATUS = {
    domain.NotFound: 404,
    domain.InvalidInput: 400,
    #: A sign-in that is someone else's: refused as forbidden, not as a malformed request.
    domain.OAuthStateOfAnotherBrowser: 403,
    domain.SignInOfAnotherMember: 403,
    domain.LinkToZoomSpent: 410,
    domain.BatchTooLarge: 413,
    domain.Forbidden: 403,
    domain.Conflict: 409,
    #: Translated by the use cases into what it means for the call; 409 if one ever reaches the edge as is.
    domain.ConnectionBroken: 409,
    domain.ZoomRefused: 502,
    #: A link that never existed is Not Found; one that expired, was used or revoked is Gone (R3).
    domain.ActivationLinkUnknown: 404,
    domain.ActivationLinkUnusable: 410,
    domain.Unavailable: 503,
    domain.IdempotencyKeyReused: 422,
    domain.DailyBudgetSpent: 429,
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


def status_of(error: domain.DomainError) -> int:
    """The one mapping of domain errors to HTTP statuses, for the API's problem+json and for pages alike."""
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def on_domain_error(_: Request, error: domain.DomainError) -> Response:
    response = problem_response(status_of(error), error.code, error.detail, error.errors)
    for name, value in getattr(error, "extensions", {}).items():
        response.content[name] = value
    if isinstance(error, domain.DailyBudgetSpent):
        response.headers["Retry-After"] = str(max(1, int((error.retry_at - utcnow()).total_seconds() + 0.999)))
    return response


def on_problem(_: Request, error: Problem) -> Response:
    return problem_response(error.status, error.code, error.detail, error.errors)


def validation_problem(message: str, field: str | None = None) -> Problem:
    """A 400 from one of msgspec's messages, in plain words under the field name the API uses."""
    path, words = plain_words(message)
    return invalid_fields({field or path or "body": words})


def invalid_fields(errors: dict[str, str]) -> Problem:
    said = "; ".join(f"`{field}` {words}" for field, words in errors.items())
    return Problem(400, "validation_failed", f"{said}. Nothing was changed.", errors)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_BOUND = re.compile(r"^Expected `(?P<type>\w+)`(?: of length)? (?P<op>[<>]=?) (?P<bound>[\d.]+)$")
_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.DOTALL)
_FIELD_NAMED = re.compile(r"^Object (?P<kind>missing required|contains unknown) field `(?P<name>[^`]+)`$")

_MISSING = re.compile(r"^Missing required \w+ parameter '(?P<name>[^']+)'")

_TYPE_WORDS = {
    "bool": "true or false",
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "object": "an object",
    "array": "a list",
    "null": "null",
    "datetime": "an RFC 3339 date and time",
    "uuid": "an id this API gave out",
}
#: Keyed as msgspec quotes a pattern in its message (repr, backslashes doubled).
_PATTERN_WORDS = {
    repr(TEXT_PATTERN)[1:-1]: "must not contain control characters (line breaks, tabs, NUL…)",
    repr(EMAIL_PATTERN)[1:-1]: "must be an email address",
    repr(IDENTIFIER_PATTERN)[1:-1]: "must be 1–128 characters of letters, digits and . _ : -",
}
#: Choices msgspec does not list in its message.
_CHOICES = {"role": "must be owner, admin or member", "type": "must be organization, personal or none"}
_BOUND_WORDS = {
    ("str", ">="): "must be at least {} characters",
    ("str", "<="): "must be at most {} characters",
    ("array", ">="): "must hold at least {} items",
    ("array", "<="): "must hold at most {} items",
    ("int", ">="): "must be at least {}",
    ("int", "<="): "must be at most {}",
    ("int", ">"): "must be more than {}",
    ("int", "<"): "must be less than {}",
}


def plain_words(message: str) -> tuple[str, str]:
    """(path, words) for one msgspec message: `members[0].email`, `must be an email address`."""
    located = _AT.match(message)
    text, path = (located.group("message"), located.group("path") or "") if located else (message, "")
    if match := _FIELD_NAMED.match(text):
        inner = f"{path}.{match.group('name')}" if path else match.group("name")
        return inner, "is required" if match.group("kind") == "missing required" else "is not a field this API takes"
    if match := _EXPECTED.match(text):
        choices = [_TYPE_WORDS.get(part.strip(), part.strip()) for part in match.group("expected").split("|")]
        return path, "must be " + (" or ".join(choices) if len(choices) < 3 else ", ".join(choices[:-1]) + " or " + choices[-1])
    if match := _BOUND.match(text):
        key = ("int" if match.group("type") == "float" else match.group("type"), match.group("op"))
        if key == ("str", ">=") and match.group("bound") == "1":
            return path, "must not be empty"
        if key in _BOUND_WORDS:
            return path, _BOUND_WORDS[key].format(match.group("bound"))
    if match := _PATTERN.match(text):
        return path, _PATTERN_WORDS.get(match.group("pattern"), "has an invalid format")
    if text.startswith("Invalid enum value"):
        return path, _CHOICES.get(path.rsplit(".", 1)[-1], "is not one of the allowed values")
    return path, "is invalid"


def on_validation_error(request: Request, error: ValidationException) -> Response:
    """Litestar's own checks (path, query, header parameters), under the names the API uses."""
    errors: dict[str, str] = {}
    if missing := _MISSING.match(str(error.detail)):
        errors[missing.group("name")] = "is required"
    for item in error.extra if isinstance(error.extra, list) else []:
        message = str(item.get("message", "is invalid"))
        key = str(item.get("key") or "")
        path, words = plain_words(message)
        errors[_api_name(request, key) or path or "request"] = words
    problem = invalid_fields(errors or {"request": "is invalid"})
    return problem_response(problem.status, problem.code, problem.detail, problem.errors)


def _api_name(request: Request, parameter: str) -> str:
    """`type`, not the handler's `member_type`: the name the caller sent."""
    field = request.route_handler.parsed_fn_signature.parameters.get(parameter)
    return getattr(getattr(field, "kwarg_definition", None), "name", None) or parameter


def on_http_error(request: Request, error: HTTPException) -> Response:
    if isinstance(error, NotFoundException):
        return problem_response(404, "not_found", "There is nothing at this address.")
    if isinstance(error, MethodNotAllowedException):
        # RFC 9110 §15.5.6: a 405 names the methods the address does accept (Litestar's router lists them).
        allow = (error.headers or {}).get("allow", "")
        response = problem_response(
            405, "method_not_allowed", f"This address does not accept that method; it accepts {allow or 'none'}."
        )
        response.headers["Allow"] = allow
        return response
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


def on_database_unavailable(request: Request, error: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(error).__name__)
    response = problem_response(
        503, "database_unavailable", "Roomlink cannot reach its database right now; nothing was changed. Try again shortly."
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def on_os_error(request: Request, error: OSError) -> Response:
    """PostgreSQL stopped behind a Unix socket (FileNotFoundError), a host that no longer resolves or routes:
    OSErrors that are not ConnectionErrors. Raised while asyncpg connects, they are the database gone (503);
    any other is ours (500)."""
    if raised_by_the_driver(error):
        return on_database_unavailable(request, error)
    return on_unexpected_error(request, error)


def on_interface_error(request: Request, error: asyncpg.InterfaceError) -> Response:
    """asyncpg's own state errors: a pool or connection closed under the request (shutting down, the database
    gone) is 503; anything else is a bug of ours (500)."""
    if "closed" in str(error) or "closing" in str(error):
        return on_database_unavailable(request, error)
    return on_unexpected_error(request, error)


def on_client_state_error(request: Request, error: asyncpg.exceptions.InternalClientError) -> Response:
    """A pooled connection left mid-operation when the database went away under it ("another operation is in
    progress"): the database is unavailable, not Roomlink broken; the pool drops that connection on release."""
    if "another operation" in str(error):
        return on_database_unavailable(request, error)
    return on_unexpected_error(request, error)


def on_token_key_missing(request: Request, error: TokenKeyMissing) -> Response:
    log.error("%s on %s %s", error, request.method, request.url.path)
    response = problem_response(
        503,
        "token_key_missing",
        "Roomlink cannot open a stored Zoom token: the key that sealed it is not configured here "
        "(ROOMLINK_TOKEN_KEYS). Nothing was changed; an operator must restore the key.",
    )
    response.headers["Retry-After"] = str(TOKEN_KEY_RETRY_AFTER_S)
    return response


def on_zoom_daily_limit(_: Request, error: ZoomDailyLimit) -> Response:
    response = problem_response(
        429, "zoom_daily_limit", "Zoom's daily limit for this is spent; it resets at 00:00 UTC. Nothing was changed."
    )
    response.headers["Retry-After"] = str(math.ceil(error.retry_after_s or 0))
    return response


def on_mail_not_sent(_: Request, error: Exception) -> Response:
    return problem_response(502, "email_not_sent", "The email could not be sent; nothing was changed.")


#: Failures to reach PostgreSQL (refused, reset, gone mid-query, shutting down, full): 503, not 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
)
DATABASE_RETRY_AFTER_S = 5
TOKEN_KEY_RETRY_AFTER_S = 60

EXCEPTION_HANDLERS = {
    **dict.fromkeys(DATABASE_UNAVAILABLE, on_database_unavailable),
    OSError: on_os_error,
    asyncpg.InterfaceError: on_interface_error,
    asyncpg.exceptions.InternalClientError: on_client_state_error,
    TokenKeyMissing: on_token_key_missing,
    ZoomDailyLimit: on_zoom_daily_limit,
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
