"""The browser side of connecting Zoom: the Zoom admin's activation page, Roomlink's link to Zoom, the OAuth callback.

Every OAuth state is bound to the browser Roomlink sends to Zoom (docs/design.md#security): that browser holds
a secret in an HttpOnly, SameSite=Lax cookie, whose hash is kept with the state, and the callback is accepted only
with it. The activation page's "Continue to Zoom" sets it on its way to Zoom. A personal connection's
authorize URL is Roomlink's `/oauth/zoom/start/{state}`, which sets it and redirects to Zoom: it works once,
in one browser (the member's own session's browser when they started from a session), so a Zoom authorize
URL forwarded to anyone else, or approved in another browser, connects nothing. A link the host product asked
for over its API key may be opened outside a Roomlink session, so there it first names the member whose Zoom
it connects and waits for a confirmation; a browser signed in as another member is refused. Every callback
spends its state, whatever the outcome: a callback URL refused once finishes nowhere.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from domain import connecting
from domain.errors import (
    ActivationLinkExpired,
    ActivationLinkRevoked,
    ActivationLinkUnknown,
    ActivationLinkUsed,
    ApprovalSuperseded,
    ConnectionChangedConcurrently,
    DomainError,
    NotAZoomAdmin,
    OAuthStateInvalid,
    OAuthStateOfAnotherBrowser,
    SignInOfAnotherMember,
    ZoomAccountServesAnotherOrganization,
    ZoomRefused,
    ZoomUserAlreadyConnected,
)
from domain.model import ConnectionType
from persistence.database import unit_of_work
from server.auth import (
    OAUTH_BROWSER_COOKIE,
    OAUTH_START_PATH,
    SESSION_COOKIE,
    new_code_verifier,
    new_secret,
)
from server.clock import SystemClock, utcnow
from server.problems import problem_response, status_of
from server.services import provide_zoom
from server.ui.layout import message_page, render
from server.zoom_client import HttpZoom, ZoomTokenRejected, ZoomUnavailable

MY_ZOOM_PAGE = "/integrations/zoom"
CLOCK = SystemClock()
#: What `new_secret` makes: 32 random bytes, URL-safe base64.
_A_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")

#: R3: each way a link stops working has its own page.
_UNUSABLE_LINK = {
    ActivationLinkUnknown: ("This activation link does not exist", "Check that you copied the whole link, or ask for a new one."),
    ActivationLinkExpired: ("This activation link has expired", "Activation links work for a limited time. Ask the person who sent it for a new one."),
    ActivationLinkUsed: ("This activation link was already used", "Zoom is already connected with it. If it needs connecting again, ask for a new link."),
    ActivationLinkRevoked: ("This activation link was revoked", "The organization withdrew it. Ask the person who sent it for a new one."),
}


@get("/activate/{token:str}", include_in_schema=False)
async def activation_page(token: FromPath[str]) -> Response[str]:
    """No Roomlink session needed: the Zoom admin may have no account in the host product."""
    try:
        invitation = await connecting.open_activation_link(unit_of_work, token, utcnow())
    except (ActivationLinkUnknown, ActivationLinkExpired, ActivationLinkUsed, ActivationLinkRevoked) as error:
        return _unusable_link_page(error)
    organization_name = invitation.organization_name
    return render(
        "activation.html",
        f"Connect Zoom for {organization_name}",
        organization_name=organization_name,
        asked_by=invitation.requested_by if invitation.requested_by is not None else f"Someone at {organization_name}",
        token=token,
        expires=f"{invitation.link.expires_at:%d %B %Y, %H:%M}",
    )


@post("/activate/{token:str}", include_in_schema=False, status_code=303)
async def start_activation(token: FromPath[str], request: Request) -> Response:
    zoom = _zoom(request)
    browser = _browser_secret(request)
    try:
        url = await connecting.start_activation(
            unit_of_work, zoom, token, new_secret(), new_code_verifier(), browser, utcnow()
        )
    except (ActivationLinkUnknown, ActivationLinkExpired, ActivationLinkUsed, ActivationLinkRevoked) as error:
        return _unusable_link_page(error)
    return Redirect(url, status_code=303, cookies=[_browser_cookie(request, browser)])


@get(f"{OAUTH_START_PATH}/{{oauth_state:str}}", include_in_schema=False, status_code=303)
async def send_to_zoom(oauth_state: FromPath[str], request: Request) -> Response:
    """A member's link to Zoom. In the member's own browser it binds their Zoom sign-in to it and goes to
    Zoom; anywhere else it first names the member it connects Zoom for, and goes on only when confirmed
    (`confirm_link_to_zoom`), so a forwarded link never connects a stranger's Zoom unawares."""
    browser = _browser_secret(request)
    try:
        who = await connecting.link_to_zoom_for(unit_of_work, oauth_state, request.cookies.get(SESSION_COOKIE), utcnow())
        if who.in_members_browser:
            return await _bind_and_go(request, oauth_state, browser)
    except OAuthStateInvalid as problem:
        return _link_to_zoom_refused(request, problem)
    page = render(
        "link_to_zoom.html",
        f"Connect Zoom for {who.member_name}",
        member_name=who.member_name,
        member_email=who.member_email,
        organization_name=who.organization_name,
        action=f"{OAUTH_START_PATH}/{oauth_state}",
        confirm=_confirmation(oauth_state, browser),
    )
    page.cookies.append(_browser_cookie(request, browser))
    return page


@post(f"{OAUTH_START_PATH}/{{oauth_state:str}}", include_in_schema=False, status_code=303)
async def confirm_link_to_zoom(oauth_state: FromPath[str], request: Request) -> Response:
    """The confirmation the link's page asked for. Its `confirm` field must be the one that page gave this very
    browser (its binding cookie is SameSite=Lax, so another site's form posting here arrives without it)."""
    form = await request.form()
    held = request.cookies.get(OAUTH_BROWSER_COOKIE, "")
    if not _A_SECRET.fullmatch(held) or not hmac.compare_digest(str(form.get("confirm", "")), _confirmation(oauth_state, held)):
        return _link_to_zoom_refused(
            request,
            OAuthStateOfAnotherBrowser(
                "This confirmation did not come from the page this browser was shown, so nothing was followed. "
                "Open the link to Zoom again."
            ),
        )
    try:
        return await _bind_and_go(request, oauth_state, held)
    except OAuthStateInvalid as problem:
        return _link_to_zoom_refused(request, problem)


async def _bind_and_go(request: Request, oauth_state: str, browser: str) -> Response:
    url = await connecting.send_browser_to_zoom(
        unit_of_work, _zoom(request), oauth_state, browser, request.cookies.get(SESSION_COOKIE), utcnow()
    )
    return Redirect(url, status_code=303, cookies=[_browser_cookie(request, browser)])


def _link_to_zoom_refused(request: Request, problem: OAuthStateInvalid) -> Response:
    if isinstance(problem, SignInOfAnotherMember):
        return _refusal(request, problem, "This link to Zoom is for another member", next_step=("My Zoom settings", MY_ZOOM_PAGE))
    if isinstance(problem, OAuthStateOfAnotherBrowser):
        return _refusal(request, problem, "This link to Zoom is for another browser")
    return _refusal(request, problem, "This link to Zoom no longer works")


def _confirmation(oauth_state: str, browser: str) -> str:
    """What the confirming form carries: tied to the state and to this browser's secret, which it does not reveal."""
    return connecting.secret_hash(f"{oauth_state}:{browser}")


@get("/oauth/zoom/callback", include_in_schema=False)
async def zoom_callback(
    request: Request,
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
    code: Annotated[str | None, QueryParameter()] = None,
    error: Annotated[str | None, QueryParameter()] = None,
) -> Response:
    """The one redirect URI of both Zoom apps: domain.connecting.complete_zoom_callback does the whole of it."""
    if not oauth_state:
        return _refusal(
            request,
            OAuthStateInvalid("Zoom sent you back without saying which sign-in this was. Start again from your Zoom settings."),
            "This Zoom sign-in is incomplete",
            next_step=("Open my Zoom settings", MY_ZOOM_PAGE),
        )
    cmd = connecting.ZoomCallback(
        state=oauth_state,
        browser_secret=request.cookies.get(OAUTH_BROWSER_COOKIE),
        code=code,
        declined=bool(error),
        session_token=request.cookies.get(SESSION_COOKIE),
    )
    try:
        done = await connecting.complete_zoom_callback(
            cmd,
            unit_of_work,
            _ZoomWhenAsked(request),
            CLOCK,
            zoom_failures=(ZoomRefused, ZoomUnavailable),
            superseded=(ZoomTokenRejected,),
        )
    except OAuthStateOfAnotherBrowser as problem:
        return _refusal(request, problem, "This Zoom sign-in was started in another browser")
    except SignInOfAnotherMember as problem:
        return _refusal(request, problem, "This Zoom sign-in was started by someone else")
    except OAuthStateInvalid as problem:
        return _refusal(request, problem, "This Zoom sign-in cannot be finished", next_step=("Open my Zoom settings", MY_ZOOM_PAGE))
    except ZoomUserAlreadyConnected as problem:
        return _refusal(
            request,
            problem,
            "This Zoom user is already connected by someone else",
            f"{problem.detail} A Zoom user can be the personal connection of one person only. Sign in to Zoom "
            "with your own user and connect again, or ask the other person to disconnect it.",
            next_step=("Back to my Zoom settings", MY_ZOOM_PAGE),
        )
    except (ApprovalSuperseded, ConnectionChangedConcurrently) as problem:
        return _refusal(request, problem, "Zoom was approved twice at the same moment")
    except NotAZoomAdmin as problem:
        return _refusal(request, problem, "You are not an admin of this Zoom account")
    except ZoomAccountServesAnotherOrganization as problem:
        return _refusal(
            request,
            problem,
            "This Zoom account already serves another organization",
            "A Zoom account can be connected to one organization only. Use your organization's own Zoom "
            "account, or disconnect it from the other organization first.",
        )
    except (ActivationLinkUnknown, ActivationLinkExpired, ActivationLinkUsed, ActivationLinkRevoked) as problem:
        return _unusable_link_page(problem)
    except connecting.CallbackZoomFailed as failed:
        back = ("Back to my Zoom settings", MY_ZOOM_PAGE) if failed.connection_type is ConnectionType.PERSONAL else None
        return _refusal(request, ZoomRefused(str(failed.cause)), "Zoom did not complete the connection", next_step=back)
    if done.declined:
        return _declined_page(done.connection_type)
    if done.connection_type is ConnectionType.PERSONAL:
        return Redirect(f"{MY_ZOOM_PAGE}?connected=personal", status_code=303)
    return message_page(
        f"Zoom is connected for {done.organization_name}",
        f"You connected your Zoom account as {done.connection.zoom_email}. Members of {done.organization_name} whose "
        "email matches a user of that Zoom account now have their meetings created through it. The owners and "
        f"admins of {done.organization_name} see who is connected on the Zoom page in Roomlink. Nothing else is "
        "needed from you.",
        next_step=("Open the Zoom page", MY_ZOOM_PAGE),
    )


def _refusal(
    request: Request, error: DomainError, title: str, detail: str | None = None, next_step: tuple[str, str] | None = None
) -> Response:
    """A page for people (`detail` says more than the error's own words where a page can), problem+json for a
    script that asks for JSON; the status is the API's, from the one mapping (server.problems.status_of)."""
    status = status_of(error)
    if request.accept.best_match(["text/html", "application/json"], default="text/html") == "application/json":
        return problem_response(status, error.code, error.detail)
    return message_page(title, detail or error.detail, status_code=status, next_step=next_step)


def _declined_page(connection_type: ConnectionType) -> Response[str]:
    if connection_type is ConnectionType.PERSONAL:
        return message_page("Zoom was not connected", "You declined in Zoom. Nothing changed.", status_code=400)
    return message_page(
        "Zoom was not connected", "You declined in Zoom. The activation link still works if you change your mind.", status_code=400
    )


def _unusable_link_page(error: DomainError) -> Response[str]:
    title, advice = _UNUSABLE_LINK[type(error)]
    return message_page(title, advice, status_code=status_of(error))


def _browser_secret(request: Request) -> str:
    """This browser's binding secret: the one it already holds (several sign-ins may be pending in one
    browser), else a new one."""
    held = request.cookies.get(OAUTH_BROWSER_COOKIE, "")
    return held if _A_SECRET.fullmatch(held) else new_secret()


def _browser_cookie(request: Request, secret: str) -> Cookie:
    return Cookie(
        key=OAUTH_BROWSER_COOKIE,
        value=secret,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        max_age=int(connecting.OAUTH_STATE_TTL.total_seconds()),
        path="/oauth/zoom",
    )


def _zoom(request: Request) -> HttpZoom:
    return provide_zoom(request.app.state)


class _ZoomWhenAsked:
    """The callback's Zoom, looked up when first called (an unconfigured Zoom answers 503 then): a sign-in
    declined in Zoom, or refused before Zoom is asked, needs none."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __getattr__(self, name: str) -> object:
        return getattr(_zoom(self._request), name)
