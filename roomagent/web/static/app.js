// Diagnostics page: one JSON-RPC WebSocket to the agent, live updates, no dependencies.
// Every value from the agent goes into the page with textContent (never as HTML).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let socket = null;
  let nextId = 1;
  const pending = new Map();
  let backoff = 1000;
  let lastStatus = null;

  // ---- words for people ------------------------------------------------------------

  const LINK_WORDS = {
    ready: ["Connected", "ok"],
    connecting: ["Connecting…", "warn"],
    disconnected: ["Not connected", "bad"],
    auth_failed: ["Password rejected by the Rooms client", "bad"],
  };
  const MEETING_WORDS = {
    idle: ["No meeting", "idle"],
    in_meeting: ["In a meeting", "ok"],
    joining: ["Joining…", "warn"],
    waiting_room: ["In the waiting room", "warn"],
    screen_cast: ["Sharing a screen (no meeting)", "idle"],
    pstn_call: ["Phone call (no meeting)", "idle"],
  };
  const ICONS = { ok: "✓", warn: "!", bad: "✕", idle: "•", wait: "…" };
  const SOURCES = { api: "API", rooms: "Rooms", web: "Page", agent: "Agent", calendar: "Calendar" };

  const norm = (value) => String(value ?? "").toLowerCase().replace(/[\s-]+/g, "_");
  const human = (value) => {
    const text = String(value ?? "").replace(/_/g, " ").trim();
    return text ? text[0].toUpperCase() + text.slice(1) : "";
  };

  function formatCode(code) {
    const digits = String(code ?? "").replace(/\D/g, "");
    if (!digits) return "—";
    return digits.replace(/(\d{3})(?=\d)/g, "$1 ");
  }

  function toDate(ts) {
    if (ts === null || ts === undefined || ts === "") return null;
    const date = typeof ts === "number" ? new Date(ts * 1000) : new Date(ts);
    return isNaN(date.getTime()) ? null : date;
  }

  function clock(ts) {
    const date = toDate(ts);
    return date ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }) : "";
  }

  function hm(ts) {
    const date = toDate(ts);
    return date ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false }) : "";
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(Number(seconds) || 0));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    return `${m} min`;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setTone(node, tone, text) {
    node.className = node.className.replace(/\btone-\w+/g, "").trim() + ` tone-${tone}`;
    if (text !== undefined) node.textContent = text;
  }

  function pill(tone, text) {
    const node = el("span", `pill tone-${tone}`);
    node.append(el("span", "pill-icon", ICONS[tone] || ""), document.createTextNode(" " + text));
    return node;
  }

  // ---- rendering -------------------------------------------------------------------

  function problemsOf(status) {
    const problems = [];
    const rooms = status.rooms || {};
    const link = norm(rooms.link);
    if (link && link !== "ready") {
      const words = (LINK_WORDS[link] || [human(link)])[0];
      problems.push(["bad", `Meeting system (Rooms client): ${words.toLowerCase()}`, rooms.last_error]);
    }
    for (const device of status.devices || []) {
      if (!device.online) {
        problems.push(["warn", `${device.name}: offline`, device.reason || "not answering"]);
      }
    }
    return problems;
  }

  function renderHealth(status) {
    const problems = problemsOf(status);
    const health = $("health");
    const worst = problems.some((p) => p[0] === "bad") ? "bad" : problems.length ? "warn" : "ok";
    setTone(health, worst);
    health.querySelector(".health-icon").textContent = ICONS[worst];
    $("health-text").textContent =
      worst === "ok" ? "Room is working" : worst === "bad" ? "Room has a problem" : "Room needs attention";
    $("health-detail").textContent =
      worst === "ok" ? "All connections are up." : `${problems.length} thing${problems.length > 1 ? "s" : ""} to check below.`;

    const list = $("problems");
    list.replaceChildren();
    for (const [tone, what, why] of problems) {
      const item = el("li", `tone-${tone}`);
      item.append(el("strong", "", what));
      if (why) item.append(el("span", "why", why));
      list.append(item);
    }
    if (status.last_error) {
      const item = el("li", "tone-idle");
      item.append(el("strong", "", "Last error"), el("span", "why", status.last_error));
      list.append(item);
    }
    $("card-problems").hidden = list.children.length === 0;
    $("card-problems").querySelector("h2").textContent = problems.length ? "What needs attention" : "Last error";
  }

  function renderMeeting(status) {
    const meeting = status.meeting || {};
    const key = norm(meeting.status) || "idle";
    const [words, tone] = MEETING_WORDS[key] || [human(key), "idle"];
    const node = $("meeting-status");
    node.replaceWith(Object.assign(pill(tone, words), { id: "meeting-status" }));
    const inMeeting = key === "in_meeting" || key === "waiting_room" || key === "joining";
    $("meeting-title").textContent = (inMeeting && meeting.title) || "—";
    $("meeting-code").textContent = inMeeting ? formatCode(meeting.code) : "—";
    $("meeting-host").textContent =
      !inMeeting || meeting.host_present === undefined || meeting.host_present === null
        ? "—"
        : meeting.host_present ? "Host is present" : "Host has not joined";
  }

  function linkRow(name, detail, tone, words) {
    const item = el("li", "link");
    const text = el("span", "link-text");
    text.append(el("strong", "", name));
    if (detail) text.append(el("span", "why", detail));
    item.append(text, pill(tone, words));
    return item;
  }

  function renderLinks(status) {
    const list = $("links");
    list.replaceChildren();
    const rooms = status.rooms || {};
    const [words, tone] = LINK_WORDS[norm(rooms.link)] || [human(rooms.link) || "Unknown", "wait"];
    list.append(linkRow("Meeting system (Rooms client)", norm(rooms.link) === "ready" ? "" : rooms.last_error, tone, words));
    for (const device of status.devices || []) {
      const kind = device.kind === "camera" ? "Camera" : device.kind === "panel" ? "Panel" : human(device.kind);
      const label = `${kind} “${device.name}”`;
      // Online: which model and which port (the last path part is what a person recognises).
      const port = String(device.port || "").split("/").pop();
      const detail = device.online
        ? [device.profile, port].filter(Boolean).join(" · ")
        : device.reason || "not answering";
      list.append(linkRow(label, detail, device.online ? "ok" : "bad", device.online ? "Online" : "Offline"));
    }
    if (!(status.devices || []).length) list.append(el("li", "muted", "No serial devices configured."));
  }

  function booking(b) {
    if (!b) return "—";
    const when = `${hm(b.start)}–${hm(b.end)}`;
    const who = b.booked_by ? ` · ${b.booked_by}` : "";
    return `${when} ${b.title || "Booked"}${who}`;
  }

  function renderCalendar(status) {
    const cal = status.calendar;
    $("card-calendar").hidden = !cal;
    if (!cal) return;
    $("cal-current").textContent = booking(cal.current);
    $("cal-next").textContent = booking(cal.next);
    const list = $("cal-today");
    list.replaceChildren(...(cal.today || []).map((b) => el("li", "", booking(b))));
    if (!list.children.length) list.append(el("li", "", "No bookings today."));
    const target = [cal.current, cal.next].find((b) => b && b.meeting_code);
    const join = $("join-booked");
    join.hidden = !target;
    if (target) join.textContent = `Join ${target === cal.current ? "now" : "next"} · ${formatCode(target.meeting_code)}`;
  }

  function firstOf(status, kind) {
    return (status.devices || []).find((d) => d.kind === kind) || null;
  }

  function renderTests(status) {
    const camera = firstOf(status, "camera");
    const panel = firstOf(status, "panel");
    $("camera-name").textContent = camera ? `“${camera.name}”` : "(none configured)";
    $("panel-name").textContent = panel ? `“${panel.name}”` : "(none configured)";
    document.querySelectorAll('[data-method="camera.preset"]').forEach((b) => (b.disabled = !camera));
    document.querySelectorAll('[data-test="led"]').forEach((b) => (b.disabled = !panel));
  }

  function render(status) {
    if (!status) return;
    lastStatus = status;
    const room = status.room || {};
    $("room-name").textContent = room.name || "Room";
    document.title = `${room.name || "Room"} · diagnostics`;
    $("version-line").textContent = `· roomagent ${status.version || ""} · up ${duration(status.uptime_s)}`;
    renderHealth(status);
    renderMeeting(status);
    renderLinks(status);
    renderCalendar(status);
    renderTests(status);
  }

  function renderEvents(events) {
    if (!Array.isArray(events)) return;
    const list = $("events");
    list.replaceChildren();
    for (const ev of events.slice().reverse()) {
      const item = el("li", "event");
      item.append(
        el("time", "event-time", clock(ev.ts)),
        el("span", "event-source", SOURCES[ev.source] || human(ev.source)),
        el("span", "event-message", ev.message || human(ev.kind)),
      );
      list.append(item);
    }
    if (!events.length) list.append(el("li", "muted", "No events yet."));
  }

  // ---- the API socket ----------------------------------------------------------------

  function setConnection(tone, text) {
    setTone($("conn"), tone, text);
    document.body.classList.toggle("offline", tone !== "ok");
  }

  function call(method, params) {
    return new Promise((resolve, reject) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        reject(new Error("Not connected to the agent; retrying…"));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params: params || {} }));
    });
  }

  function onMessage(event) {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (msg.method === "update" && msg.params) {
      render(msg.params.status);
      if (msg.params.events) renderEvents(msg.params.events);
      return;
    }
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) {
      const error = new Error(msg.error.message || "Failed");
      error.data = msg.error.data;
      waiter.reject(error);
    } else {
      waiter.resolve(msg.result);
    }
  }

  async function connect() {
    setConnection("wait", backoff > 1000 ? "Reconnecting…" : "Connecting…");
    try {
      // The page is already authenticated; this hands the socket a short-lived cookie.
      const reply = await fetch("/session", { cache: "no-store", credentials: "same-origin" });
      if (!reply.ok) throw new Error(`session: HTTP ${reply.status}`);
    } catch (err) {
      scheduleReconnect();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api`);
    socket.addEventListener("message", onMessage);
    socket.addEventListener("open", async () => {
      backoff = 1000;
      setConnection("ok", "Live");
      try {
        const snapshot = await call("subscribe", { events: 30 });
        render(snapshot.status);
        renderEvents(snapshot.events || []);
      } catch (err) {
        showResult("bad", `Could not load the room's state: ${err.message}`);
      }
    });
    socket.addEventListener("close", () => {
      for (const waiter of pending.values()) waiter.reject(new Error("Connection to the agent lost"));
      pending.clear();
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    setConnection("bad", "Reconnecting…");
    const wait = backoff;
    backoff = Math.min(backoff * 2, 15000);
    setTimeout(connect, wait + Math.random() * 300);
  }

  // ---- test buttons ------------------------------------------------------------------

  function showResult(tone, text) {
    const node = $("result");
    setTone(node, tone, text);
  }

  function paramsFor(button) {
    const method = button.dataset.method;
    const status = lastStatus || {};
    if (method === "camera.preset") {
      const camera = firstOf(status, "camera");
      return [{ camera: camera && camera.name, preset: Number(button.dataset.preset) }, `Camera preset ${button.dataset.preset}`];
    }
    if (button.dataset.test === "led") {
      const panel = firstOf(status, "panel");
      return [{ device: panel && panel.name, command: "led", args: [1, "blink"] }, "LED test"];
    }
    if (method === "meeting.layout") {
      const select = $("layout");
      return [{ switch_type: Number(select.value) }, select.options[select.selectedIndex].text];
    }
    return [{}, button.textContent.trim()];
  }

  async function onButton(event) {
    const button = event.target.closest("button[data-method]");
    if (!button) return;
    const [params, label] = paramsFor(button);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    showResult("wait", `${label}: sending…`);
    try {
      await call(button.dataset.method, params);
      showResult("ok", `${label}: done.`);
    } catch (err) {
      const code = err.data && err.data.error_code !== undefined ? ` (code ${err.data.error_code})` : "";
      showResult("bad", `${label}: ${err.message}${code}`);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (lastStatus) renderTests(lastStatus);
    }
  }

  document.addEventListener("click", onButton);
  // Keep "up 5 min" honest between updates without asking the agent.
  setInterval(() => {
    if (lastStatus && typeof lastStatus.uptime_s === "number") {
      lastStatus.uptime_s += 30;
      $("version-line").textContent = `· roomagent ${lastStatus.version || ""} · up ${duration(lastStatus.uptime_s)}`;
    }
  }, 30000);
  connect();
})();
