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
  let lastEvents = [];

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
    unknown: ["Unknown", "warn"], // the why and the last known meeting go beside it
  };
  const ICONS = { ok: "✓", warn: "!", bad: "✕", idle: "•", wait: "…" };
  const SOURCES = { api: "API", rooms: "Rooms", web: "Page", agent: "Agent", calendar: "Calendar" };
  // Action names (the API's and the bindings') as a person says them.
  const ACTION_WORDS = {
    "meeting.start": "start meeting",
    "meeting.join": "join meeting",
    "meeting.join_next": "join the booked meeting",
    "meeting.leave": "leave meeting",
    "meeting.dissolve": "end meeting for everyone",
    "meeting.leave_waiting_room": "leave the waiting room",
    "meeting.layout": "change layout",
    "camera.preset": "camera preset",
    "camera.move": "move camera",
    "camera.zoom": "zoom camera",
    "camera.home": "camera home position",
    "camera.power": "camera power",
    "camera.stop": "stop camera",
    "calendar.book_now": "book this room",
    "calendar.end_early": "end booking",
    macro: "macro",
    delay: "wait",
  };
  // Device commands as a person says them (the pad's moves, power, presets).
  const COMMAND_WORDS = {
    pt_drive: "move", pt_stop: "stop", zoom_tele: "zoom in", zoom_wide: "zoom out", zoom_stop: "stop zooming",
    power_on: "power on", power_off: "standby", preset_recall: "go to preset", preset_set: "store preset",
    led: "LED", text: "text",
  };
  const MOVE_STARTS = ["pt_drive", "zoom_tele", "zoom_wide"];
  const MOVE_STOPS = ["pt_stop", "zoom_stop"];
  const BUTTON_WORDS = { press: "pressed", hold: "held", release: "released" };

  const norm = (value) => String(value ?? "").toLowerCase().replace(/[\s-]+/g, "_");
  const capital = (text) => (text ? text[0].toUpperCase() + text.slice(1) : "");
  const human = (value) => capital(String(value ?? "").replace(/_/g, " ").trim());

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

  // "14:02" today, "21 Nov 14:02" on another day.
  function whenWords(ts) {
    const date = toDate(ts);
    if (!date) return "";
    const today = date.toDateString() === new Date().toDateString();
    const day = today ? "" : date.toLocaleDateString([], { day: "numeric", month: "short" }) + " ";
    return day + hm(ts);
  }

  function ago(ts) {
    const date = toDate(ts);
    if (!date) return "";
    const s = Math.max(0, (Date.now() - date.getTime()) / 1000);
    if (s < 45) return "just now";
    if (s < 90 * 60) return `${Math.max(1, Math.round(s / 60))} min ago`;
    if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} d ago`;
  }

  const actionWords = (name) => ACTION_WORDS[name] || human(name).toLowerCase();

  // An action's result in words: the agent's sentences ("Room booked until 10:45") as they
  // are, its wire-level ones ("LeaveMeeting: LeaveMeeting", "cam1 preset_recall 2") as "done".
  function outcomeWords(result) {
    const text = String(result ?? "").trim();
    if (!text || /_/.test(text) || /^[A-Z][A-Za-z]+(: [A-Za-z]+)?$/.test(text)) return "done";
    return text;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(Number(seconds) || 0));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    return `${m} min`;
  }

  const el = window.RoomPads.el; // el(tag, className, text): text always as textContent

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

  const kindWord = (kind) => (kind === "camera" ? "Camera" : kind === "panel" ? "Panel" : human(kind) || "Device");
  const deviceLabel = (device) => `${kindWord(device.kind)} “${device.name}”`;

  // An offline device in words a person can act on (the agent's `reason_words`), with the
  // technical reason as the detail.
  function offlineWords(device) {
    if (!device) return "Not connected";
    const words = device.reason_words;
    return (words && words.text) || `${kindWord(device.kind)} is offline`;
  }

  function offlineDetail(device) {
    const words = device && device.reason_words;
    return breakable((words && words.detail) || (device && device.reason) || "not answering");
  }

  // Long paths wrap at their separators, not in the middle of a word.
  const breakable = (text) => String(text ?? "").replace(/([/_\-])/g, "$1\u200b");

  function problemsOf(status) {
    const problems = [];
    const rooms = status.rooms || {};
    const link = norm(rooms.link);
    if (link && link !== "ready") {
      const words = (LINK_WORDS[link] || [human(link)])[0];
      const said = words[0].toLowerCase() + words.slice(1);
      problems.push(["bad", `Meeting system (Rooms client): ${said}`, rooms.last_error]);
    }
    for (const device of status.devices || []) {
      if (!device.online) {
        problems.push(["warn", `${deviceLabel(device)}: ${offlineWords(device)}`, offlineDetail(device)]);
      }
    }
    // The separate blocks' own problems (fleet.js, tls.js): [tone, what, why] each.
    for (const source of page.problemSources) problems.push(...source(status));
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
    $("card-problems").hidden = problems.length === 0;
    $("card-problems").classList.toggle("is-bad", worst === "bad"); // its edge as the worst one
  }

  // The last error, with when it happened. While something is wrong it sits with the problems;
  // once the room is healthy again it moves to the history, dimmed and marked resolved.
  function renderLastError(status) {
    const box = $("last-error");
    const error = shownError(status);
    box.hidden = !error;
    if (!error) return;
    const resolved = problemsOf(status).length === 0;
    // Current: after the problems themselves. Resolved: above the history it belongs to.
    if (resolved && box.nextElementSibling !== $("events")) $("events").before(box);
    if (!resolved && box.previousElementSibling !== $("problems")) $("problems").after(box);
    $("events").classList.toggle("error-resolved", resolved);
    box.classList.toggle("resolved", resolved);
    const at = status.last_error_at;
    const when = $("last-error-when");
    when.textContent = at ? `${whenWords(at)} · ${ago(at)}` : "";
    const date = toDate(at);
    if (date) when.dateTime = date.toISOString();
    else when.removeAttribute("datetime");
    $("last-error-state").textContent = resolved ? "✓ Resolved · room is working now" : "";
    const text = $("last-error-text");
    text.textContent = errorWords(error, errorEvent(status.last_error_at));
    text.title = error;
  }

  // A press the room's state made pointless ("Not in a meeting") is no error of the room:
  // the agent marks it `result: "not_applicable"`; the history shows it "not done".
  const isRefusedPress = (ev) => Boolean(ev) && ev.result === "not_applicable";
  const ACTION_ERROR = /^([a-z_]+\.[a-z_]+|macro)(?: (step \d+ \([^)]*\)))?: (.+)$/;

  function shownError(status) {
    const error = status.last_error;
    if (!error) return null;
    return isRefusedPress(errorEvent(status.last_error_at)) ? null : error;
  }

  // The event that set the last error: the agent stamps last_error_at with that event's ts.
  function errorEvent(at) {
    if (!at) return null;
    for (let i = lastEvents.length - 1; i >= 0; i--) {
      if (lastEvents[i].ts === at) return lastEvents[i];
    }
    return null;
  }

  // A failed action in words from its event's fields ("Leave meeting: not done — Not in a
  // meeting"); any other error (or one no longer in the history) as the agent said it.
  function errorWords(error, ev) {
    if (ev && has(ev.action) && ev.ok === false) return notDone(ev, "")[0];
    if (ev && has(ev.reason) && (ev.kind === "offline" || ev.kind === "link")) return describeEvent(ev)[0];
    // Not in the history any more: "meeting.dissolve: not host or co-host" → a sentence.
    const m = ACTION_ERROR.exec(String(error));
    if (m) return notDone({ action: m[1], step: m[2], reason: capital(m[3]) }, "")[0];
    return capital(String(error));
  }

  function renderMeeting(status) {
    const meeting = status.meeting || {};
    const key = norm(meeting.status) || "idle";
    const [words, tone] = MEETING_WORDS[key] || [human(key), "idle"];
    const node = $("meeting-status");
    node.replaceWith(Object.assign(pill(tone, words), { id: "meeting-status" }));
    const inMeeting = key === "in_meeting" || key === "waiting_room" || key === "joining";
    // While the link is down the meeting is unknown: say when it was last known, and what.
    const known = lastKnown(meeting);
    const knownNode = $("meeting-known");
    knownNode.hidden = key !== "unknown";
    if (key === "unknown") {
      const was = known && known.status ? (MEETING_WORDS[norm(known.status)] || [human(known.status)])[0] : "";
      const at = known && (known.at || known.ts || known.since);
      const code = known && known.code ? ` ${formatCode(known.code)}` : "";
      knownNode.textContent =
        "The meeting system is not connected. " +
        (was ? `Last known${at ? ` at ${whenWords(at)} (${ago(at)})` : ""}: ${was.toLowerCase()}${code}.` : "");
    }
    $("meeting-title").textContent = (inMeeting && meeting.title) || "—";
    $("meeting-code").textContent = inMeeting ? formatCode(meeting.code) : "—";
    // The primary (filled) button is the one that makes sense now.
    $("start-meeting").classList.toggle("secondary", inMeeting);
    $("leave-meeting").classList.toggle("secondary", !inMeeting);
    $("meeting-host").textContent =
      !inMeeting || meeting.host_present === undefined || meeting.host_present === null
        ? "—"
        : meeting.host_present ? "Host is present" : "Host has not joined";
  }

  // The meeting as last known while the link was up: the agent's `last_known` (or a few
  // likely spellings of it), {status, code, title, at}.
  function lastKnown(meeting) {
    const known = meeting.last_known || meeting.last_known_meeting || null;
    if (known && typeof known === "object") return { at: meeting.last_known_at, ...known };
    if (meeting.last_known_status) {
      return { status: meeting.last_known_status, code: meeting.last_known_code, at: meeting.last_known_at };
    }
    return meeting.last_known_at ? { at: meeting.last_known_at } : null;
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
      const label = deviceLabel(device);
      // Online: which model and which port (the last path part is what a person recognises).
      const port = String(device.port || "").split("/").pop();
      const detail = device.online
        ? breakable([device.profile, port].filter(Boolean).join(" · "))
        : `${offlineWords(device)} (${offlineDetail(device)})`;
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
    // Book while the room is free, end while a booking runs (the agent refuses otherwise).
    $("book-now").hidden = Boolean(cal.current);
    $("end-booking").hidden = !cal.current;
  }

  function firstOf(status, kind) {
    return (status.devices || []).find((d) => d.kind === kind) || null;
  }

  function renderTests(status) {
    const camera = firstOf(status, "camera");
    const panel = firstOf(status, "panel");
    $("camera-name").textContent = camera ? `“${camera.name}”` : "(none configured)";
    $("panel-name").textContent = panel ? `“${panel.name}”` : "(none configured)";
    const why = (device, what) => (!device ? `No ${what} configured` : device.online ? "" : `${kindWord(device.kind)} “${device.name}”: ${offlineWords(device)}`);
    const cameraWhy = why(camera, "camera");
    const panelWhy = why(panel, "panel");
    document.querySelectorAll('.test-row [data-method="camera.preset"]').forEach((b) => {
      b.disabled = Boolean(cameraWhy);
      b.title = cameraWhy;
    });
    document.querySelectorAll('[data-test="led"]').forEach((b) => {
      b.disabled = Boolean(panelWhy);
      b.title = panelWhy;
    });
    const note = $("test-offline");
    const reasons = [cameraWhy, panelWhy].filter((w) => w && !w.startsWith("No "));
    note.hidden = !reasons.length;
    note.textContent = reasons.length ? `Not testable now — ${reasons.join("; ")}.` : "";
  }

  function render(status) {
    if (!status) return;
    lastStatus = status;
    const room = status.room || {};
    $("room-name").textContent = room.name || "Room";
    document.title = `${room.name || "Room"} · diagnostics`;
    $("version-line").textContent = `· roomagent ${status.version || ""} · up ${duration(status.uptime_s)}`;
    renderHealth(status);
    renderLastError(status);
    renderMeeting(status);
    renderLinks(status);
    renderCalendar(status);
    renderTests(status);
    window.RoomPads.render(status);
    clearStaleResults(status);
    page.listeners.forEach((listener) => listener(status));
  }

  // A result box says what a press did; once the room has moved on (another meeting state,
  // a device gone or back) or after a while, it no longer applies and goes.
  const RESULT_SECONDS = 20;
  const roomKey = (status) =>
    JSON.stringify([norm((status.meeting || {}).status), norm((status.rooms || {}).link), (status.devices || []).map((d) => d.online)]);

  function clearStaleResults(status) {
    const key = roomKey(status);
    const now = Date.now();
    document.querySelectorAll(".result").forEach((node) => {
      if (node.hidden || !node.dataset.key) return;
      const old = now - Number(node.dataset.at || 0) > RESULT_SECONDS * 1000;
      if (node.dataset.key !== key || old) {
        node.hidden = true;
        delete node.dataset.key;
      }
    });
  }

  // "Camera", "Panel" for a configured device name; "Device" otherwise.
  function deviceWord(name) {
    const device = ((lastStatus || {}).devices || []).find((d) => d.name === name);
    return device ? kindWord(device.kind) : "Device";
  }

  const has = (value) => value !== undefined && value !== null && value !== "";
  const buttonNo = (ev) => (typeof ev.button === "number" ? ev.button : null);
  // "ZoomRoom"/"JoinMeetingCompleted" → "Join meeting completed"
  const spaced = (name) => capital(String(name).replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase());

  // "Button 3 → leave meeting", or "Leave meeting" when no button started it.
  const actionBy = (ev, who) => (who ? `${who} → ${actionWords(ev.action)}` : capital(actionWords(ev.action)));

  // An action's failure in words: "Button 3 → leave meeting: not done — Not in a meeting".
  function notDone(ev, who) {
    const where = has(ev.step) ? ` (${ev.step})` : "";
    return [`${actionBy(ev, who)}${where}: not done${has(ev.reason) ? ` — ${ev.reason}` : ""}`, "bad"];
  }

  // One history event as a sentence for a person, and its tone — built from the event's
  // structured fields (README, "events"), never from its message: the agent's prose may be
  // reworded. The message stays the line's tooltip and the words of unknown events.
  function describeEvent(ev) {
    const message = String(ev.message ?? "");
    const source = String(ev.source ?? "");
    const kind = String(ev.kind ?? "");
    const device = has(ev.device) ? String(ev.device) : source;
    const button = buttonNo(ev);
    const virtual = source === "api";
    const who = button === null ? "" : virtual ? `Virtual button ${button} on ${device}` : `Button ${button}`;
    if (kind === "online") return [`${deviceWord(device)} online${has(ev.port) ? ` (${ev.port})` : ""}`, "ok"];
    if (kind === "offline") return [`${deviceWord(device)} offline${has(ev.reason) ? `: ${ev.reason}` : ""}`, "bad"];
    if (kind === "closed") return [`${deviceWord(device)} closed by the agent`, "idle"];
    if (kind === "button" && who) return [`${who} ${BUTTON_WORDS[ev.how] || ev.how || "pressed"}`, "idle"];
    if (kind === "busy" && who && has(ev.action)) {
      return [`${who}: still busy with ${actionWords(ev.action)}; press not repeated`, "warn"];
    }
    if (kind === "superseded" && who && has(ev.action)) {
      return [`${actionBy(ev, who)}: skipped, a newer press won`, "idle"];
    }
    if ((kind === "action" || kind === "refused") && has(ev.action)) {
      if (ev.ok === false || kind === "refused") {
        const [text] = notDone(ev, who);
        return [text, ev.result === "not_applicable" ? "warn" : "bad"]; // a wrong press: amber
      }
      return [`${actionBy(ev, who)}: ${outcomeWords(ev.outcome)}`, "ok"];
    }
    if (kind === "device" && has(ev.command)) {
      const args = Array.isArray(ev.args) && ev.args.length ? ` ${ev.args.join(" ").replace(/_/g, " ")}` : "";
      const words = COMMAND_WORDS[ev.command] || String(ev.command).replace(/_/g, " ");
      return [`${deviceWord(device)} “${device}” from the page: ${words}${args}`, "idle"];
    }
    if (kind === "link" && has(ev.link)) {
      if (ev.link === "ready") return ["Meeting system (Rooms client) connected", "ok"];
      return [`Meeting system (Rooms client) offline${has(ev.reason) ? `: ${ev.reason}` : ""}`, "bad"];
    }
    if (kind === "event" && has(ev.event)) return [spaced(ev.event), "idle"];
    if (kind === "error" || kind === "refused") return [message ? capital(message) : "Error", "bad"];
    return [capital(message) || human(kind), "idle"];
  }

  // Button events fold into one row per action: the press, its hold and release and what
  // the action did are one thing a person did. A press nothing was bound to stays a row.
  function collapse(events) {
    const rows = [];
    const open = new Map(); // device/button → its row, until the next press of it
    for (const ev of events) {
      const button = buttonNo(ev);
      const key = button === null ? null : `${ev.source === "api" ? "api:" : ""}${ev.device ?? ev.source}/${button}`;
      const keyAny = button === null ? null : `${ev.device ?? ev.source}/${button}`;
      if (ev.kind === "button") {
        let row = open.get(key);
        if (!row || ev.how === "press") {
          row = { ev, hows: [], outcome: null, ts: ev.ts };
          rows.push(row);
          open.set(key, row);
        }
        row.hows.push(ev.how);
        continue;
      }
      // A held move from the pad and its stop are one row too.
      if (ev.kind === "device" && MOVE_STARTS.includes(ev.command)) {
        const row = { ev, hows: [], outcome: null, ts: ev.ts, stopped: false };
        rows.push(row);
        open.set(`move:${ev.device}`, row);
        continue;
      }
      if (ev.kind === "device" && MOVE_STOPS.includes(ev.command)) {
        const row = open.get(`move:${ev.device}`);
        if (row && !row.stopped) {
          row.stopped = true;
          row.ts = ev.ts;
          continue;
        }
      }
      const row = key && (open.get(key) || open.get(`api:${keyAny}`) || open.get(keyAny));
      if (row && !row.outcome && ["action", "refused", "busy", "superseded"].includes(ev.kind)) {
        row.outcome = ev;
        row.ts = ev.ts;
        continue;
      }
      rows.push({ ev, hows: [], outcome: null, ts: ev.ts });
    }
    return rows;
  }

  function rowWords(row) {
    if (row.outcome) {
      let [text, tone] = describeEvent(row.outcome);
      const n = buttonNo(row.ev);
      // Pressed on the page: the outcome (recorded for the panel) says so too.
      if (row.ev.source === "api" && n !== null) text = text.replace(`Button ${n}`, `Virtual button ${n} on ${row.ev.device}`);
      if (row.hows.includes("hold")) text = text.replace(/^(Virtual button \d+ on \S+|Button \d+)/, "$1 (held)");
      return [text, tone];
    }
    if (row.stopped) return [`${describeEvent(row.ev)[0]}, then stop`, "idle"];
    if (!row.hows.length) return describeEvent(row.ev);
    const [text] = describeEvent(row.ev);
    const did = row.hows.includes("hold") ? "held" : row.hows.includes("release") ? "pressed" : "pressed";
    const who = text.replace(/ (pressed|held|released)$/, "");
    const bound = isBound(row.ev.device ?? row.ev.source, buttonNo(row.ev));
    return [`${who} ${did}${bound ? "" : " — not assigned to anything"}`, "idle"];
  }

  function isBound(device, button) {
    const panel = ((lastStatus || {}).panels || []).find((p) => p.name === device);
    return !panel || panel.buttons.some((b) => b.button === button);
  }

  function renderEvents(events) {
    if (!Array.isArray(events)) return;
    lastEvents = events;
    if (lastStatus) renderLastError(lastStatus); // its words come from the error's event
    const list = $("events");
    list.replaceChildren();
    const flaggedEvent = lastStatus && shownError(lastStatus) ? errorEvent(lastStatus.last_error_at) : null;
    for (const row of collapse(events).reverse()) {
      const ev = row.outcome || row.ev;
      const [text, tone] = rowWords(row);
      const flagged = ev === flaggedEvent ? ev : null;
      const item = el("li", `event tone-${tone}`);
      item.title = String(ev.message ?? "");
      const message = el("span", "event-message", text);
      // The newest event that is the last error gets a mark, so it is easy to find.
      if (flagged) {
        item.classList.add("is-last-error");
        message.prepend(el("span", "event-flag", "Last error"));
      }
      item.append(
        el("time", "event-time", clock(row.ts)),
        el("span", "event-source", SOURCES[ev.source] || ev.source || ""),
        message,
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

  // Separate page blocks (clouds.js, fleet.js, tls.js) hook in here: they get each status,
  // may call, add to "What needs attention" and ask for a redraw when their own data changed.
  const page = (window.roomPage = {
    call: (m, p) => call(m, p),
    listeners: [],
    problemSources: [],
    refresh: () => lastStatus && render(lastStatus),
    pill,
    when: (ts) => (toDate(ts) ? `${whenWords(ts)} (${ago(ts)})` : ""),
  });

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
      window.RoomPads.releaseAll(); // the agent stops this socket's held moves itself
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

  // The result line of the card the button is on (the test card's when there is none).
  function showResult(tone, text, button) {
    const card = button && button.closest(".card");
    const node = (card && card.querySelector(".result")) || $("result");
    node.hidden = false;
    setTone(node, tone, text);
    if (lastStatus) {
      node.dataset.key = roomKey(lastStatus);
      node.dataset.at = String(Date.now());
    }
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
    if (method === "calendar.book_now") {
      return [{ minutes: Number(button.dataset.minutes) || 30 }, button.textContent.trim()];
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
    showResult("wait", `${label}: sending…`, button);
    try {
      const reply = await call(button.dataset.method, params);
      const outcome = outcomeWords(reply && reply.result);
      showResult("ok", outcome === "done" ? `${label}: done.` : `${label}: ${outcome}`, button);
    } catch (err) {
      const code = err.data && err.data.error_code !== undefined ? ` (code ${err.data.error_code})` : "";
      showResult("bad", `${label}: ${capital(err.message)}${code}`, button);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (lastStatus) renderTests(lastStatus);
    }
  }

  window.RoomPads.init({
    call,
    actionWords,
    offlineWords: (device) => offlineWords(device),
    result: (card, tone, text) => {
      const node = card.querySelector(".result");
      node.hidden = false;
      setTone(node, tone, text);
      if (lastStatus) {
        node.dataset.key = roomKey(lastStatus);
        node.dataset.at = String(Date.now());
      }
    },
  });
  document.addEventListener("click", onButton);
  // Keep "up 5 min" and "2 min ago" honest between updates without asking the agent.
  setInterval(() => {
    if (lastStatus && typeof lastStatus.uptime_s === "number") {
      lastStatus.uptime_s += 30;
      $("version-line").textContent = `· roomagent ${lastStatus.version || ""} · up ${duration(lastStatus.uptime_s)}`;
    }
    if (lastStatus) renderLastError(lastStatus);
  }, 30000);
  connect();
})();
