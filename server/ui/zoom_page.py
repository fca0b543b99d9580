"""Integrations → Zoom: the page frame. What it shows comes from the JSON API, fetched by zoom.js."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency, Provide

from domain.access import Principal
from server.auth import member_guard, provide_principal
from server.problems import Problem
from server.ui.layout import message_page, page, script_tag
from server.ui.words import page_words

ZOOM_PAGE_PATH = "/integrations/zoom"

_MY_ZOOM = """
<h1>Zoom</h1>
<p class="lead">Which Zoom account your meetings go through.</p>
<div class="notices">
  <p id="notice" class="notice" role="status" aria-live="polite"></p>
  <p id="problem" class="problem" role="alert" aria-live="assertive"></p>
</div>
<section class="card" id="my-zoom" aria-labelledby="my-zoom-title">
  <h2 id="my-zoom-title">Your Zoom</h2>
  <div id="my-zoom-state"><p class="muted">Loading…</p></div>
  <div class="actions" id="my-zoom-actions"></div>
</section>
"""

_ORGANIZATION = """
<section class="card" id="organization" aria-labelledby="organization-title">
  <h2 id="organization-title">Organization connection</h2>
  <div id="organization-state"><p class="muted">Loading…</p></div>
  <div class="actions">
    <button type="button" id="connect-organization">Connect Zoom for my organization</button>
    <button type="button" class="secondary" id="verify-organization" hidden>Check now</button>
    <button type="button" class="danger" id="disconnect-organization" hidden>Disconnect organization</button>
  </div>
  <form id="activation-form" class="panel" hidden>
    <label for="zoom-admin-email">Zoom administrator's email <span class="muted">(optional)</span></label>
    <p class="hint" id="zoom-admin-email-hint">Roomlink emails them the activation link.
      Leave it empty to open or send the link yourself.</p>
    <input type="email" id="zoom-admin-email" name="zoom_admin_email" autocomplete="off"
           aria-describedby="zoom-admin-email-hint">
    <div class="actions">
      <button type="submit" id="create-activation-link">Create activation link</button>
      <button type="button" class="secondary" id="cancel-activation">Cancel</button>
    </div>
  </form>
  <div id="activation-result" class="panel" hidden>
    <label for="activation-url">Activation link</label>
    <div class="copy-row">
      <input id="activation-url" readonly>
      <button type="button" class="secondary" id="copy-activation-url">Copy link</button>
    </div>
    <p id="activation-details"></p>
  </div>
  <div id="pending-links" class="panel" hidden>
    <h3 id="pending-links-title">Pending activation links</h3>
    <p class="hint">Each works once, until it expires. When one is used, the others stop working.</p>
    <ul class="pending-links" id="pending-link-list"></ul>
  </div>
  <div class="policy">
    <input type="checkbox" id="allow-members-to-remove" aria-describedby="policy-hint">
    <label for="allow-members-to-remove">Members may remove the organization connection for themselves</label>
    <p class="hint" id="policy-hint">Off by default. While off, earlier removals are kept but have no effect.</p>
  </div>
</section>
<section class="card" id="members" aria-labelledby="members-title">
  <h2 id="members-title">Members</h2>
  <ul class="counts" id="counts" aria-label="Members by connection: each count lists them"></ul>
  <div class="filters" role="search" aria-label="Filter members">
    <label>Type
      <select id="filter-type">
        <option value="">All types</option>
        <option value="organization">Organization</option>
        <option value="personal">Personal</option>
        <option value="none">— (not connected)</option>
      </select>
    </label>
    <label>Status
      <select id="filter-connected">
        <option value="">All statuses</option>
        <option value="true">Connected</option>
        <option value="false">Not connected</option>
      </select>
    </label>
    <label>Search
      <input type="search" id="filter-q" placeholder="Name or email" maxlength="200">
    </label>
  </div>
  <div class="table-scroll">
    <table>
      <caption class="visually-hidden">Members and their Zoom connection</caption>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th>
            <th scope="col">Status</th><th scope="col">Type</th></tr>
      </thead>
      <tbody id="member-rows"><tr><td colspan="5" class="muted">Loading…</td></tr></tbody>
    </table>
  </div>
  <nav class="pager" aria-label="Members pages">
    <button type="button" class="secondary" id="previous-page" disabled>Previous page</button>
    <span id="page-number" aria-live="polite"></span>
    <button type="button" class="secondary" id="next-page" disabled>Next page</button>
  </nav>
</section>
"""


def _words_script() -> str:
    # "<" escaped keeps the JSON from closing the script element early.
    words = msgspec.json.encode(page_words()).decode().replace("<", "\\u003c")
    return f'<script type="application/json" id="roomlink-words">{words}</script>'


def problem_page(_: Request, problem: Problem) -> Response[str]:
    """A person, not a program, opened this page: answer in HTML, never problem+json."""
    if problem.status == 401:
        return message_page(
            "Open Roomlink from your product",
            "This page belongs to the product you use (its Integrations settings). Open it from there "
            "and you will be signed in here for a few hours.",
            status_code=401,
        )
    return message_page("Roomlink cannot show this page", problem.detail, status_code=problem.status)


@get(
    ZOOM_PAGE_PATH,
    name="zoom_page",
    include_in_schema=False,
    guards=[member_guard],
    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
    exception_handlers={Problem: problem_page},
)
async def zoom_page(principal: NamedDependency[Principal]) -> Response[str]:
    manages = principal.role.manages_organization
    return page(
        "Zoom",
        _MY_ZOOM + (_ORGANIZATION if manages else ""),
        head_html=_words_script() + script_tag("zoom.js"),
        main_attributes={"data-org-id": principal.org_id, "data-manager": "true" if manages else "false"},
    )
