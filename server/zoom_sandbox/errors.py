"""Zoom's two error shapes, and the one place they become HTTP answers.

The REST API answers ``{"code", "message"}``; the OAuth endpoints answer
``{"reason", "error"}``. Clients branch on these, so the sandbox must not blur them.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from litestar import Request, Response

# Zoom's REST error codes used by the sandbox.
INVALID_ACCESS_TOKEN = 124
VALIDATION_FAILED = 300
USER_NOT_FOUND = 1001
MEETING_NOT_FOUND = 3001
PMI_NOT_DELETABLE = 3018
MISSING_SCOPES = 4711
TOKEN_SUPERSEDED = 4741


class FieldError(msgspec.Struct, kw_only=True, frozen=True):
    field: str
    message: str


class ZoomApiError(Exception):
    """An answer of Zoom's REST API other than success."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: tuple[FieldError, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})


class OAuthError(Exception):
    """An answer of Zoom's OAuth endpoints other than success."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


def invalid_token(message: str = "Invalid access token.") -> ZoomApiError:
    return ZoomApiError(401, INVALID_ACCESS_TOKEN, message)


def token_superseded() -> ZoomApiError:
    return ZoomApiError(401, TOKEN_SUPERSEDED, "Access token was revoked: the user authorized the app again.")


def user_not_found(user_ref: str) -> ZoomApiError:
    return ZoomApiError(404, USER_NOT_FOUND, f"User does not exist: {user_ref}.")


def meeting_not_found(meeting_id: int | str) -> ZoomApiError:
    return ZoomApiError(404, MEETING_NOT_FOUND, f"Meeting does not exist: {meeting_id}.")


def missing_scopes(*scopes: str) -> ZoomApiError:
    return ZoomApiError(400, MISSING_SCOPES, f"Invalid access token, does not contain scopes:[{', '.join(scopes)}].")


def validation_failed(*errors: FieldError) -> ZoomApiError:
    return ZoomApiError(400, VALIDATION_FAILED, "Validation Failed.", errors=errors)


def zoom_error_body(code: int, message: str, errors: tuple[FieldError, ...] = ()) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    if errors:
        body["errors"] = [msgspec.to_builtins(error) for error in errors]
    return body


def oauth_error_body(error: str, reason: str) -> dict[str, str]:
    return {"reason": reason, "error": error}


def answer_zoom_api_error(_: Request, exc: ZoomApiError) -> Response:
    return Response(zoom_error_body(exc.code, exc.message, exc.errors), status_code=exc.status, headers=exc.headers)


def answer_oauth_error(_: Request, exc: OAuthError) -> Response:
    return Response(oauth_error_body(exc.error, exc.reason), status_code=exc.status)


EXCEPTION_HANDLERS = {ZoomApiError: answer_zoom_api_error, OAuthError: answer_oauth_error}
