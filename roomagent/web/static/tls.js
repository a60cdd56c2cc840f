// The page's certificate in the footer: what staff compare with a pinned fingerprint, and a
// warning when it expires soon. Kept apart from app.js; it only reads GET /tls.
"use strict";

(function () {
  const REFRESH_MS = 60 * 60 * 1000; // an expiry warning appears without a reload

  function show(info) {
    const box = document.getElementById("tls-info");
    if (!box) return;
    box.replaceChildren();
    if (info.scheme !== "https") {
      box.hidden = true;
      return;
    }
    const mode = info.mode === "auto" ? "self-signed certificate" : "site certificate";
    const expires = (info.expires || "").slice(0, 10);
    const line = document.createElement("span");
    line.textContent = `Served over HTTPS with a ${mode} (valid until ${expires}). SHA-256: `;
    const fp = document.createElement("code");
    fp.id = "tls-fingerprint";
    fp.className = "tls-fp";
    fp.textContent = info.fingerprint || "";
    line.append(fp);
    box.append(line);
    if (info.warning) {
      const warn = document.createElement("span");
      warn.id = "tls-warning";
      warn.className = "tls-warning";
      warn.setAttribute("role", "alert");
      warn.textContent = info.warning.charAt(0).toUpperCase() + info.warning.slice(1);
      box.append(warn);
    }
    box.hidden = false;
  }

  async function refresh() {
    try {
      const reply = await fetch("/tls", { cache: "no-store", credentials: "same-origin" });
      if (reply.ok) show(await reply.json());
    } catch (err) {
      // The main script reports a lost connection; the footer keeps what it showed.
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
