"use strict";
// The fleet page: one socket to the fleet server (/api), a table kept live from its pushes.
(function () {
  const rooms = new Map(); // "site/room" -> row
  let broker = null;
  let selected = null;
  let socket = null;
  let retry = 1000;
  const $ = (id) => document.getElementById(id);

  const STATE_WORDS = {
    idle: "Idle", joining: "Joining", in_meeting: "In a meeting",
    waiting_room: "Waiting room", rooms_offline: "Rooms client offline",
    device_offline: "Device offline",
  };
  const LINK_WORDS = { ready: "Connected", connecting: "Connecting",
    disconnected: "Disconnected", auth_failed: "Wrong password" };

  function key(row) { return row.site + "/" + row.room_id; }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function ago(iso) {
    if (!iso) return "—";
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return "just now";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return new Date(iso).toLocaleString();
  }

  function cell(tr, label, content) {
    const td = el("td");
    td.dataset.label = label;
    if (typeof content === "string") td.textContent = content; else td.append(content);
    tr.append(td);
  }

  function pill(text, tone) { return el("span", text, "pill " + (tone || "")); }

  function visible(row) {
    const site = $("site").value;
    const q = $("search").value.trim().toLowerCase();
    if (site && row.site !== site) return false;
    return !q || (row.room_id + " " + (row.name || "")).toLowerCase().includes(q);
  }

  function render() {
    const rows = [...rooms.values()].sort((a, b) =>
      (b.problems.length > 0) - (a.problems.length > 0) ||
      a.site.localeCompare(b.site) || a.room_id.localeCompare(b.room_id));
    const body = $("room-rows");
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      if (!visible(row)) continue;
      const tr = el("tr", null, row.problems.length ? "problem" : "fine");
      if (key(row) === selected) tr.classList.add("selected");
      tr.dataset.key = key(row);
      const name = el("div");
      name.append(el("span", row.name || row.room_id, "room-name"));
      name.append(el("span", row.room_id, "room-id"));
      if (row.problems.length) name.append(el("span", row.problems.join(" · "), "why"));
      cell(tr, "Room", name);
      cell(tr, "Site", row.site);
      cell(tr, "State", row.online ? pill(STATE_WORDS[row.state] || row.state || "—",
        row.state === "in_meeting" ? "ok" : "") : pill("Agent offline", "bad"));
      cell(tr, "Meeting", el("span", row.meeting && row.meeting.code || "—", "code"));
      cell(tr, "Rooms link", row.link ? pill(LINK_WORDS[row.link] || row.link,
        row.link === "ready" ? "ok" : "bad") : "—");
      cell(tr, "Devices", row.devices_offline.length ?
        pill(row.devices_offline.length + " offline", "bad") : pill("All online", "ok"));
      cell(tr, "Version", row.version || "—");
      cell(tr, "Last seen", ago(row.last_seen));
      fragment.append(tr);
    }
    body.replaceChildren(fragment);
    $("empty").hidden = rooms.size > 0;
    $("rooms").hidden = rooms.size === 0;
    $("count-rooms").textContent = String(rooms.size);
    $("count-problems").textContent = String(rows.filter((r) => r.problems.length).length);
    $("count-meeting").textContent = String(rows.filter((r) => r.state === "in_meeting").length);
    renderSites();
    renderDetail();
  }

  function renderSites() {
    const select = $("site");
    const sites = [...new Set([...rooms.values()].map((r) => r.site))].sort();
    const have = [...select.options].slice(1).map((o) => o.value);
    if (sites.join("\n") === have.join("\n")) return;
    const current = select.value;
    select.replaceChildren(el("option", "All sites"));
    select.options[0].value = "";
    for (const site of sites) { const o = el("option", site); o.value = site; select.append(o); }
    select.value = sites.includes(current) ? current : "";
  }

  function renderDetail() {
    const row = selected && rooms.get(selected);
    $("detail").hidden = !row;
    if (!row) return;
    $("detail-title").textContent = (row.name || row.room_id) + " · " + row.site;
    $("detail-problems").textContent = row.problems.length ? row.problems.join(" · ") :
      "Nothing needs attention.";
  }

  function showEvents(events) {
    const list = $("detail-events");
    list.replaceChildren();
    for (const ev of events.slice().reverse()) {
      const li = el("li");
      const t = el("time", ev.ts ? new Date(ev.ts).toLocaleTimeString() : "");
      li.append(t, document.createTextNode(ev.message || (ev.source + " " + ev.kind)));
      list.append(li);
    }
    if (!events.length) list.append(el("li", "No events since the page opened."));
  }

  function askEvents() {
    if (selected && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ get: "events", room: selected }));
    }
  }

  function setConn(text, tone) {
    const c = $("conn");
    c.textContent = text;
    c.className = "conn conn-" + tone;
  }

  function showBroker() {
    if (!broker) return;
    const b = $("broker");
    b.textContent = broker.connected ? "Broker " + broker.url :
      "Broker unreachable: " + (broker.error || broker.url);
    b.className = broker.connected ? "conn conn-live" : "conn conn-down";
  }

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      rooms.clear();
      for (const row of msg.rooms) rooms.set(key(row), row);
      broker = msg.broker;
      showBroker();
      render();
      askEvents();
    } else if (msg.type === "rooms") {
      for (const row of msg.rooms) rooms.set(key(row), row);
      for (const k of msg.gone || []) rooms.delete(k);
      render();
      if (selected && msg.rooms.some((r) => key(r) === selected)) askEvents();
    } else if (msg.type === "broker") {
      broker = msg;
      showBroker();
    } else if (msg.type === "events" && msg.room === selected) {
      showEvents(msg.events);
    }
  }

  async function connect() {
    setConn("Connecting…", "wait");
    try {
      const r = await fetch("/session", { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) throw new Error("session " + r.status);
    } catch (e) {
      setConn("Reconnecting…", "wait");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
      return;
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/api");
    socket.onopen = () => { retry = 1000; setConn("Live", "live"); };
    socket.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch (_) { /* skip */ } };
    socket.onclose = () => {
      setConn("Reconnecting…", "wait");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("site").addEventListener("change", render);
    $("search").addEventListener("input", render);
    $("room-rows").addEventListener("click", (e) => {
      const tr = e.target.closest("tr");
      if (!tr) return;
      selected = tr.dataset.key;
      render();
      $("detail-events").replaceChildren();
      askEvents();
    });
    $("detail-close").addEventListener("click", () => { selected = null; render(); });
    setInterval(render, 30000); // "last seen" ages without messages
    connect();
  });
})();
