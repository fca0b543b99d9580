"use strict";

// Integrations → Zoom. Every fact shown comes from the JSON API, so the page and the API never disagree.
(() => {
  const PAGE_SIZE = 25;
  const SEARCH_DELAY_MS = 300;
  const CHANGING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
  const TYPE_LABELS = { organization: "Organization", personal: "Personal" };

  const main = document.querySelector("main");
  const words = JSON.parse(document.getElementById("roomlink-words").textContent);
  const isManager = main.dataset.manager === "true";
  const myPath = "/api/v1/me/integrations/zoom";
  const organizationPath = `/api/v1/orgs/${encodeURIComponent(main.dataset.orgId)}/integrations/zoom`;
  const byId = (id) => document.getElementById(id);
  // Times in this browser's time zone, named ("3 Dec 2026, 14:05 CET"), so a reader knows which zone it is.
  const dateFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });

  // ---- talking to the API

  class ApiError extends Error {
    constructor(message, problem = null) {
      super(message);
      this.problem = problem;
    }
  }

  // What a person calls each field the API may name in a problem's `errors`.
  const FIELD_LABELS = {
    zoom_admin_email: "The Zoom administrator's email",
    allow_members_to_remove: "The members' removal setting",
    q: "The search",
    cursor: "The page",
  };

  function csrfToken() {
    const prefix = "roomlink_csrf=";
    const entry = document.cookie.split("; ").find((cookie) => cookie.startsWith(prefix));
    return entry ? decodeURIComponent(entry.slice(prefix.length)) : "";
  }

  // Field errors are said beside their field when the page has it; never under the API's field names.
  function problemText(problem) {
    const fields = Object.entries(problem.errors || {});
    if (!fields.length) return problem.detail;
    const elsewhere = fields.filter(([field]) => !fieldOf(field));
    if (!elsewhere.length) return "Nothing was changed: see the field marked below.";
    return `Nothing was changed: ${elsewhere.map(([field, message]) => `${FIELD_LABELS[field] || "a value"} ${message}`).join("; ")}.`;
  }

  const fieldOf = (name) => document.querySelector(`input[name="${CSS.escape(name)}"]`);

  function markFields(problem) {
    for (const [name, message] of Object.entries((problem && problem.errors) || {})) {
      const input = fieldOf(name);
      const said = input && byId(`${input.id}-error`);
      if (!said) continue;
      input.setAttribute("aria-invalid", "true");
      said.textContent = `${FIELD_LABELS[name] || "This"} ${message}.`;
    }
  }

  function clearFields() {
    for (const input of document.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
    for (const said of document.querySelectorAll(".field-error")) said.textContent = "";
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (CHANGING_METHODS.has(method)) headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError("Roomlink could not be reached. Check your connection and try again.");
    }
    if (response.status === 204) return null;
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(payload && payload.detail ? problemText(payload) : `Roomlink answered ${response.status}; please try again.`, payload);
    }
    return payload;
  }

  // ---- small DOM helpers

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  function facts(pairs) {
    return el("dl", { class: "facts" }, ...pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  }

  const when = (iso) => dateFormat.format(new Date(iso));

  function tell(message) {
    byId("problem").textContent = "";
    byId("notice").textContent = message;
  }

  function warn(error) {
    byId("notice").textContent = "";
    byId("problem").textContent = error.message;
    markFields(error.problem);
  }

  // A new action starts clean: no notice or problem from earlier work stays on the page.
  function clearNotices() {
    byId("notice").textContent = "";
    byId("problem").textContent = "";
    clearFields();
  }

  const attempt = (work) => work().catch(warn);

  // The button stays disabled while its request runs, so a double click does not act twice.
  async function act(button, work) {
    clearNotices();
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      warn(error);
    } finally {
      button.disabled = false;
    }
  }

  function actionButton(label, work, kind = "") {
    const button = el("button", { type: "button", class: kind }, label);
    button.addEventListener("click", () => act(button, work));
    return button;
  }

  // The rows' words depend on the organization's state (disconnected or never connected), so it comes first.
  async function refreshAll() {
    await Promise.all(isManager
      ? [loadMyZoom(), loadOrganization().then(() => showMembersPage(membersTable.cursors))]
      : [loadMyZoom()]);
  }

  // "on 3 Dec 2026, 14:05 CET by Olivia Owner": the last disconnection, from the audit trail.
  function disconnectedWords(text, disconnection) {
    return text
      .replace("{when}", `on ${when(disconnection.at)}`)
      .replace("{by}", disconnection.by || words.disconnected.by_nobody);
  }

  // ---- Your Zoom

  async function loadMyZoom() {
    const mine = await api("GET", myPath);
    byId("my-zoom-state").replaceChildren(myHeadline(mine), ...myDetails(mine));
    byId("my-zoom-actions").replaceChildren(...myActions(mine));
  }

  function myHeadline(mine) {
    if (!mine.connected) return el("p", { class: "headline bad", id: "my-zoom-headline" }, "Not connected");
    const through = mine.type === "personal" ? "through your own Zoom" : "through your organization";
    return el("p", { class: "headline ok", id: "my-zoom-headline" }, `Connected — ${through}`);
  }

  function myDetails(mine) {
    const details = [];
    if (mine.reason === "organization_not_connected" && mine.organization_disconnected) {
      details.push(el("p", { class: "advice" }, disconnectedWords(words.disconnected.member_advice, mine.organization_disconnected)));
    } else if (mine.reason) {
      details.push(el("p", { class: "advice" }, words.reason_advice[mine.reason]));
    }
    if (mine.personal) {
      const pairs = [["Your own Zoom", mine.personal.zoom_email], ["First connected", when(mine.personal.connected_at)]];
      if (mine.personal.status !== "active") pairs.push(["Works now", "No: Zoom no longer accepts it"]);
      details.push(facts(pairs));
    }
    if (mine.organization) {
      details.push(facts([
        ["Organization", mine.organization.organization_name],
        ["Your Zoom user", mine.organization.seat_zoom_email || "none with your email"],
      ]));
    }
    return details;
  }

  function myActions(mine) {
    const actions = [];
    if (!mine.personal) actions.push(actionButton("Connect my own Zoom", connectPersonal));
    if (mine.personal && mine.personal.status !== "active") actions.push(actionButton("Reconnect my own Zoom", connectPersonal));
    if (mine.personal) actions.push(actionButton("Disconnect my Zoom", disconnectPersonal, "secondary"));
    if (mine.organization && mine.can_remove_organization) {
      actions.push(mine.organization_removed
        ? actionButton("Use the organization's Zoom again", restoreOrganizationForMe)
        : actionButton("Stop using the organization's Zoom", removeOrganizationForMe, "secondary"));
    }
    return actions;
  }

  async function connectPersonal() {
    const { authorize_url: authorizeUrl } = await api("POST", `${myPath}/personal/authorize`);
    tell("Opening Zoom…");
    window.location.assign(authorizeUrl);
  }

  async function disconnectPersonal() {
    if (!window.confirm("Disconnect your own Zoom? Your organization's Zoom serves you again if it can.")) return;
    await api("DELETE", `${myPath}/personal`);
    await refreshAll();
    tell("Your own Zoom is disconnected.");
  }

  async function removeOrganizationForMe() {
    await api("DELETE", `${myPath}/organization`);
    await refreshAll();
    tell("You no longer use the organization's Zoom.");
  }

  async function restoreOrganizationForMe() {
    await api("PUT", `${myPath}/organization`);
    await refreshAll();
    tell("You use the organization's Zoom again.");
  }

  // ---- Organization connection (owners and admins)

  async function loadOrganization() {
    const organization = await api("GET", organizationPath);
    organizationState.disconnected = organization.disconnected || null;
    const status = organization.disconnected
      ? { headline: words.disconnected.headline, advice: disconnectedWords(words.disconnected.advice, organization.disconnected) }
      : words.organization_status[organization.status];
    const connected = organization.status !== "not_connected";
    byId("organization-state").replaceChildren(
      el("p", { class: `headline ${organization.status === "active" ? "ok" : "bad"}`, id: "organization-headline" }, status.headline),
      el("p", { class: "advice" }, status.advice),
      ...(connected ? [organizationFacts(organization)] : []),
    );
    byId("connect-organization").textContent = organization.status === "active"
      ? "Reconnect with another Zoom admin"
      : "Connect Zoom for my organization";
    byId("disconnect-organization").hidden = !connected;
    byId("verify-organization").hidden = !["active", "admin_lost"].includes(organization.status);
    byId("allow-members-to-remove").checked = organization.policy.allow_members_to_remove;
    byId("policy-hint").textContent = words.policy_hint[organization.policy.allow_members_to_remove ? "on" : "off"];
    renderCounts(organization.counts);
    await Promise.all([loadActivationLinks(), loadImpact(organization)]);
  }

  // ---- Who is affected, while the organization's Zoom is broken or disconnected

  const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const fill = (text, n) => text.replace("{n}", n);

  async function loadImpact(organization) {
    const box = byId("organization-impact");
    const affected = organization.status === "active" ? null : (await api("GET", `${organizationPath}/impact`)).affected;
    box.hidden = !affected;
    if (!affected) {
      box.replaceChildren();
      return;
    }
    const said = words.impact;
    const parts = [
      el("h3", { id: "impact-title" }, said.title),
      el("ul", { class: "impact-counts" },
        el("li", { id: "impact-lost" }, fill(said.lost, count(affected.members_lost_zoom, "member", "members"))),
        el("li", { id: "impact-kept" }, fill(said.kept, count(affected.members_keeping_personal_zoom, "member", "members")))),
    ];
    if (affected.sessions.total) {
      parts.push(el("h4", {}, fill(said.sessions, affected.sessions.total)), upcomingList(affected.sessions, "impact-sessions"),
        el("p", {}, el("a", { href: "/organization/sessions" }, said.all_sessions)));
    }
    if (affected.meetings.total) {
      parts.push(el("h4", {}, fill(said.meetings, affected.meetings.total)), upcomingList(affected.meetings, "impact-meetings"));
    }
    if (!affected.sessions.total && !affected.meetings.total) parts.push(el("p", { class: "muted" }, said.none_upcoming));
    const fix = el("button", { type: "button", id: "fix-organization" }, said.fix_button);
    fix.addEventListener("click", openActivationForm);
    parts.push(el("p", { class: "advice" }, said.fix), el("div", { class: "actions" }, fix));
    box.replaceChildren(...parts);
  }

  function upcomingList(affected, id) {
    return el("ul", { class: "upcoming", id }, ...affected.first.map((each) =>
      el("li", {}, el("strong", {}, each.title), ` — ${when(each.start_time)}${each.host ? `, ${each.host}` : ""}`)),
      ...(affected.total > affected.first.length ? [el("li", { class: "muted" }, `and ${affected.total - affected.first.length} more`)] : []));
  }

  // What the members table needs to know of the organization to put its rows into words.
  const organizationState = { disconnected: null };

  async function loadActivationLinks() {
    const { items } = await api("GET", `${organizationPath}/activation-links`);
    byId("pending-link-list").replaceChildren(...items.map(pendingLink));
    byId("pending-links").hidden = items.length === 0;
  }

  function pendingLink(link) {
    const to = link.emailed_to ? `Emailed to ${link.emailed_to}` : "Not emailed: for you to open, or to send to your Zoom administrator";
    const actions = [];
    if (link.emailed_to) {
      actions.push(actionButton("Resend", () => resendActivationLink(link), "secondary"));
    }
    actions.push(actionButton("Revoke", () => revokeActivationLink(link), "danger"));
    for (const button of actions) button.setAttribute("aria-label", `${button.textContent}: ${to}, created ${when(link.created_at)}`);
    return el("li", {},
      el("p", {}, el("strong", {}, to)),
      el("p", { class: "hint" }, `Created ${when(link.created_at)} by ${link.created_by_name || "someone no longer a member"} · expires ${when(link.expires_at)}`),
      el("div", { class: "actions" }, ...actions));
  }

  async function resendActivationLink(link) {
    await api("POST", `${organizationPath}/activation-links/${encodeURIComponent(link.id)}/resend`);
    await loadActivationLinks();
    tell(`A new activation link was emailed to ${link.emailed_to}; the earlier one no longer works.`);
  }

  async function revokeActivationLink(link) {
    await api("DELETE", `${organizationPath}/activation-links/${encodeURIComponent(link.id)}`);
    await loadActivationLinks();
    tell("Activation link revoked: it no longer works.");
  }

  function organizationFacts(organization) {
    const pairs = [
      ["Zoom admin", organization.zoom_admin_email],
      ["Connected", when(organization.connected_at)],
      ["Last verified", organization.last_verified_at ? when(organization.last_verified_at) : "not yet"],
    ];
    if (organization.status_reason) pairs.push(["Details", organization.status_reason]);
    return facts(pairs);
  }

  // Each count is the filter that lists exactly those members (docs/design.md#r9).
  const COUNT_FILTERS = [
    ["total", "members", { type: "", connected: "" }],
    ["organization", "through the organization", { type: "organization", connected: "true" }],
    ["personal", "personal", { type: "personal", connected: "true" }],
    ["not_connected", "not connected", { type: "", connected: "false" }],
  ];

  function renderCounts(counts) {
    byId("counts").replaceChildren(...COUNT_FILTERS.map(([key, label, filters]) => {
      const link = el("a", { href: `?${new URLSearchParams(filters)}`, class: "count" }, el("strong", {}, String(counts[key])), ` ${label}`);
      link.dataset.type = filters.type;
      link.dataset.connected = filters.connected;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        byId("filter-type").value = filters.type;
        byId("filter-connected").value = filters.connected;
        showFirstPage();
      });
      return el("li", {}, link);
    }));
    markCurrentCount();
  }

  function markCurrentCount() {
    const type = byId("filter-type").value;
    const connected = byId("filter-connected").value;
    const searching = byId("filter-q").value.trim() !== "";
    for (const link of byId("counts").querySelectorAll("a")) {
      const current = !searching && link.dataset.type === type && link.dataset.connected === connected;
      if (current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  }

  function openActivationForm() {
    byId("activation-result").hidden = true;
    byId("activation-form").hidden = false;
    byId("zoom-admin-email").focus();
  }

  async function createActivationLink() {
    const email = byId("zoom-admin-email").value.trim();
    const link = await api("POST", `${organizationPath}/activation-links`, email ? { zoom_admin_email: email } : {});
    byId("activation-form").hidden = true;
    byId("activation-url").value = link.url;
    byId("activation-details").textContent = `Expires ${when(link.expires_at)}. ` + (link.emailed_to
      ? `Emailed to ${link.emailed_to}.`
      : "Not emailed: open it yourself if you are the Zoom administrator, or send it to them.");
    byId("activation-result").hidden = false;
    await loadActivationLinks();
    tell("Activation link created.");
  }

  async function copyActivationUrl() {
    const field = byId("activation-url");
    try {
      await navigator.clipboard.writeText(field.value);
      tell("Link copied.");
    } catch {
      // The clipboard API needs a secure context; a selected field lets the person copy by hand.
      field.select();
      tell("Press Ctrl+C (⌘C) to copy the selected link.");
    }
  }

  async function disconnectOrganization() {
    const question = "Disconnect your organization's Zoom? Every member relying on it loses Zoom until it is "
      + "connected again. Personal connections are not affected.";
    if (!window.confirm(question)) return;
    const { affected_members: affected } = await api("DELETE", organizationPath);
    await refreshAll();
    tell(`Organization disconnected. ${affected === 1 ? "1 member was" : `${affected} members were`} relying on it.`);
  }

  async function verifyOrganization() {
    const organization = await api("POST", `${organizationPath}/verify`);
    await refreshAll();
    tell(organization.status === "active"
      ? "Checked with Zoom just now: the connection works and seats are up to date."
      : "Checked with Zoom just now: the connection needs attention (see above).");
  }

  async function savePolicy() {
    const toggle = byId("allow-members-to-remove");
    const wanted = toggle.checked;
    try {
      await api("PATCH", `${organizationPath}/policy`, { allow_members_to_remove: wanted });
    } catch (error) {
      toggle.checked = !wanted;
      throw error;
    }
    await refreshAll();
    tell(wanted
      ? "Saved: members may remove the organization connection for themselves."
      : "Saved: members may not remove the organization connection; earlier removals have no effect.");
  }

  // ---- Members table

  // cursors[i] opens page i + 1; the stack is what "Previous page" walks back through.
  const membersTable = { cursors: [null], nextCursor: null, latestRequest: 0 };

  function membersUrl(cursor) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    const filters = {
      type: byId("filter-type").value, connected: byId("filter-connected").value, q: byId("filter-q").value.trim(),
      sort: byId("filter-sort").value,
    };
    for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
    if (cursor) params.set("cursor", cursor);
    return `${organizationPath}/members?${params}`;
  }

  async function showMembersPage(cursors) {
    const request = ++membersTable.latestRequest;
    const page = await api("GET", membersUrl(cursors[cursors.length - 1]));
    // A newer filter, search or page was asked for while this one travelled: it wins.
    if (request !== membersTable.latestRequest) return;
    membersTable.cursors = cursors;
    membersTable.nextCursor = page.next_cursor;
    rememberFilters();
    markCurrentCount();
    byId("member-rows").replaceChildren(...(page.items.length ? page.items.map(memberRow) : [noMembersRow()]));
    byId("previous-page").disabled = cursors.length === 1;
    byId("next-page").disabled = !page.next_cursor;
    byId("page-number").textContent = pageRange(cursors.length, page);
  }

  // "26–37 of 37": where this page is among the rows the filters list (a search has no total).
  function pageRange(pageNumber, page) {
    if (!page.items.length) return page.total === null ? "" : `0 of ${page.total}`;
    const first = (pageNumber - 1) * PAGE_SIZE + 1;
    const range = `${first}–${first + page.items.length - 1}`;
    return page.total === null ? range : `${range} of ${page.total}`;
  }

  function memberRow(member) {
    const status = member.connected
      ? el("span", { class: "ok" }, "Connected")
      : el("span", { class: "bad" }, `Not connected — ${reasonShort(member.reason)}`);
    return el("tr", {},
      el("td", { "data-label": "Name" }, member.name),
      el("td", { "data-label": "Email" }, member.email),
      el("td", { "data-label": "Role" }, member.role.charAt(0).toUpperCase() + member.role.slice(1)),
      el("td", { "data-label": "Status" }, status),
      el("td", { "data-label": "Type" }, TYPE_LABELS[member.type] || "—"),
      el("td", { "data-label": "Zoom user" }, member.zoom_user_email || "—"));
  }

  function reasonShort(reason) {
    if (reason === "organization_not_connected" && organizationState.disconnected) {
      return disconnectedWords(words.disconnected.short, organizationState.disconnected);
    }
    return words.reason_short[reason];
  }

  function noMembersRow() {
    return el("tr", {}, el("td", { colspan: "6", class: "muted" }, "No members match these filters."));
  }

  const showFirstPage = () => attempt(() => showMembersPage([null]));

  // The filters live in the address too: a reload, a bookmark or a shared link shows the same rows.
  const FILTER_FIELDS = { type: "filter-type", connected: "filter-connected", q: "filter-q", sort: "filter-sort" };

  function restoreFilters() {
    const params = new URLSearchParams(window.location.search);
    for (const [name, id] of Object.entries(FILTER_FIELDS)) {
      const value = params.get(name);
      if (value !== null && (name !== "sort" || value === "-name")) byId(id).value = value;
    }
  }

  function rememberFilters() {
    const params = new URLSearchParams();
    for (const [name, id] of Object.entries(FILTER_FIELDS)) {
      const value = byId(id).value.trim();
      if (value) params.set(name, value);
    }
    const query = params.toString();
    window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
    byId("export-members").href = `${organizationPath}/members/export${query ? `?${query}` : ""}`;
    markSort(params);
  }

  // The Name header sorts: aria-sort says the order shown; its link leads to the other, same filters.
  function markSort(params) {
    const descending = byId("filter-sort").value === "-name";
    byId("name-header").setAttribute("aria-sort", descending ? "descending" : "ascending");
    const other = new URLSearchParams(params);
    if (descending) other.delete("sort");
    else other.set("sort", "-name");
    const query = other.toString();
    byId("sort-name").href = query ? `?${query}` : window.location.pathname;
  }

  function wireMembersTable() {
    let searchTimer;
    restoreFilters();
    byId("filter-type").addEventListener("change", showFirstPage);
    byId("filter-connected").addEventListener("change", showFirstPage);
    // Another order starts again at its first page, with the same filters and search.
    byId("sort-name").addEventListener("click", (event) => {
      event.preventDefault();
      byId("filter-sort").value = byId("filter-sort").value === "-name" ? "" : "-name";
      showFirstPage();
    });
    byId("filter-q").addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(showFirstPage, SEARCH_DELAY_MS);
    });
    // Paging moves focus to the top of the table, where the new rows start.
    const toTableTop = () => byId("members-table").focus();
    byId("next-page").addEventListener("click", () => attempt(async () => {
      await showMembersPage([...membersTable.cursors, membersTable.nextCursor]);
      toTableTop();
    }));
    byId("previous-page").addEventListener("click", () => attempt(async () => {
      await showMembersPage(membersTable.cursors.slice(0, -1));
      toTableTop();
    }));
  }

  function wireOrganization() {
    byId("connect-organization").addEventListener("click", openActivationForm);
    byId("cancel-activation").addEventListener("click", () => { byId("activation-form").hidden = true; });
    byId("activation-form").addEventListener("submit", (event) => {
      event.preventDefault();
      act(byId("create-activation-link"), createActivationLink);
    });
    byId("copy-activation-url").addEventListener("click", () => attempt(copyActivationUrl));
    byId("disconnect-organization").addEventListener("click", (event) => act(event.currentTarget, disconnectOrganization));
    byId("verify-organization").addEventListener("click", (event) => act(event.currentTarget, verifyOrganization));
    byId("allow-members-to-remove").addEventListener("change", (event) => act(event.currentTarget, savePolicy));
  }

  if (isManager) {
    wireOrganization();
    wireMembersTable();
  }
  attempt(refreshAll);
  // The organization changed while the page is open (pages.js follows its stream): show it as it is now.
  document.addEventListener("roomlink:changed", () => attempt(refreshAll));
  // Back from Zoom after connecting a personal Zoom: say so once, and clean the address.
  if (new URLSearchParams(window.location.search).get("connected") === "personal") {
    tell("Your own Zoom is connected. Your meetings now go through it.");
    window.history.replaceState(null, "", window.location.pathname);
  }
})();
