"use strict";

// What script adds to the server-rendered pages; each works without it.
(() => {
  // Copy buttons beside long links: shown only where the clipboard can be written.
  for (const button of document.querySelectorAll("button[data-copy]")) {
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

  // My day without a chosen time zone: shown again in this browser's, and the page says so.
  const address = new URL(window.location.href);
  if (address.pathname === "/sessions" && !address.searchParams.has("timezone")) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== "UTC") {
      address.searchParams.set("timezone", zone);
      address.searchParams.set("zone", "browser");
      window.location.replace(address.toString());
    }
  }
})();
