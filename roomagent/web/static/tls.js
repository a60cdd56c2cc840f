// The page's certificate in the footer: what staff compare with a pinned fingerprint, and a
// warning when it expires soon; an expiring or expired certificate is also a line in "What
// needs attention" (through window.roomPage). Kept apart from app.js; it only reads GET /tls.
"use strict";

(function () {
  const REFRESH_MS = 60 * 60 * 1000; // an expiry warning appears without a reload
  let current = null; // the last GET /tls answer

  // [tone, what, why] for "What needs attention", from the structured fields of GET /tls.
  function problems() {
    const info = current;
    if (!info || info.scheme !== "https" || !info.warning) return [];
    const day = (info.expires || "").slice(0, 10);
    const fix = info.mode === "auto"
      ? "The agent makes a new self-signed certificate at its next start (restart it); staff who pinned the fingerprint must pin the new one."
      : "Install a renewed certificate as web.cert_file (and its key as web.key_file), then send SIGHUP (systemctl reload roomagent).";
    if (info.expired) {
      return [["bad", `Page certificate (HTTPS) expired on ${day}`, `Browsers warn before opening this page. ${fix}`]];
    }
    const days = info.days_left === 1 ? "1 day" : `${info.days_left} days`;
    return [["warn", `Page certificate (HTTPS) expires in ${days} (${day})`, fix]];
  }

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
      if (!reply.ok) return;
      current = await reply.json();
      show(current);
      if (window.roomPage) window.roomPage.refresh(); // the attention card reads `current`
    } catch (err) {
      // The main script reports a lost connection; the footer keeps what it showed.
    }
  }

  if (window.roomPage) window.roomPage.problemSources.push(problems);
  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
