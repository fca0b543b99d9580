"""One mapping of domain errors to HTTP statuses: pages and the API answer the same status for the
same error, because both ask server.problems.status_of."""

from __future__ import annotations

import inspect

import pytest

from domain import errors
from server.problems import _STATUS, status_of

ALL_ERRORS = [
    cls for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.DomainError) and cls.__module__ == errors.__name__
]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.ActivationLinkUnknown, 404),
        (errors.ActivationLinkExpired, 410),
        (errors.ActivationLinkUsed, 410),
        (errors.ActivationLinkRevoked, 410),
        (errors.LinkToZoomSpent, 410),
        (errors.OAuthStateInvalid, 400),
        (errors.OAuthStateOfAnotherBrowser, 403),
        (errors.SignInOfAnotherMember, 403),
        (errors.NotAZoomAdmin, 403),
        (errors.ZoomAccountServesAnotherOrganization, 409),
        (errors.ZoomRefused, 502),
    ],
)
def test_each_way_a_link_or_sign_in_fails_has_one_status(error, status):
    assert status_of(error("why")) == status


def test_every_domain_error_has_its_status_in_the_mapping_rather_than_the_fallback():
    unmapped = [cls.__name__ for cls in ALL_ERRORS if not any(ancestor in _STATUS for ancestor in cls.__mro__)]
    assert len(ALL_ERRORS) > 30 and unmapped == ["DomainError"]


def test_an_os_error_is_the_database_gone_only_when_raised_while_talking_to_it():
    from types import SimpleNamespace

    from server.problems import on_os_error

    request = SimpleNamespace(method="GET", url=SimpleNamespace(path="/x"))

    def ours():
        raise FileNotFoundError(2, "No such file or directory", "templates/missing.html")

    try:
        ours()
    except OSError as error:
        assert on_os_error(request, error).status_code == 500


def test_a_connection_left_mid_operation_by_a_vanished_database_is_503_any_other_client_error_500():
    from types import SimpleNamespace

    import asyncpg

    from server.problems import on_client_state_error

    request = SimpleNamespace(method="GET", url=SimpleNamespace(path="/x"))
    left = asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
    other = asyncpg.exceptions.InternalClientError("unexpected message type")

    answer = on_client_state_error(request, left)
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "5")
    assert on_client_state_error(request, other).status_code == 500
