"use strict";

// What script adds to the server-rendered pages; each works without it.
(() => {
  const GATHER_MS = 300;

  // Copy buttons beside long links: shown only where the clipboard can be written.
  function wireCopyButtons(root) {
    for (const button of root.querySelectorAll("button[data-copy]")) {
      if (!navigator.clipboard) continue;
      button.hidden = false;
      button.addEventListener("click", async () => {
        const label = button.textContent;
        try {
          await navigator.clipboard.writeText(button.dataset.copy);
          button.textContent = "Copied";
        } catch {
          button.textContent = "Could not copy: open the link instead";
        }
        setTimeout(() => { button.textContent = label; }, 2000);
      });
    }
  }

  // My day without a chosen time zone: shown again in this browser's, and the page says so.
  function inBrowserZone() {
    const address = new URL(window.location.href);
    if (address.pathname !== "/sessions" || address.searchParams.has("timezone")) return false;
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || zone === "UTC") return false;
    address.searchParams.set("timezone", zone);
    address.searchParams.set("zone", "browser");
    window.location.replace(address.toString());
    return true;
  }

  // The part of a server-rendered page that follows the truth: fetched again, and put in place.
  async function refetchLive() {
    const live = document.getElementById("live");
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("live");
    if (!fresh || fresh.innerHTML === live.innerHTML) return;
    // A person typing in a form here keeps it: the page waits for the next change.
    if (live.contains(document.activeElement) && document.activeElement.matches("input, select, textarea")) return;
    live.replaceChildren(...fresh.childNodes);
    wireCopyButtons(live);
  }

  // One stream per open page: each "changed" (the person's organization changed) refreshes what it shows,
  // as does each stream opened again after a break (changes may have been missed meanwhile).
  function follow(refresh) {
    if (!window.EventSource) return;
    let timer = null;
    let opened = false;
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => refresh().catch(() => {}), GATHER_MS);
    };
    const stream = new EventSource("/ui/changes");
    stream.addEventListener("ready", () => {
      if (opened) soon();
      opened = true;
    });
    stream.addEventListener("changed", soon);
    window.addEventListener("pagehide", () => stream.close());
  }

  wireCopyButtons(document);
  if (inBrowserZone()) return;
  const main = document.querySelector("main");
  if (main && main.dataset.follow === "script") {
    follow(async () => { document.dispatchEvent(new CustomEvent("roomlink:changed")); });
  } else if (document.getElementById("live")) {
    follow(refetchLive);
  }
})();
