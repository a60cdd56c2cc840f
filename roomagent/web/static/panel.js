// Virtual panels and PTZ pads: what the room's people see and touch, on the page.
// A panel is a button grid (as in Companion) with each button's LED and the panel's text
// lines mirrored live; a pad moves a camera while an arrow is held down. Built once per
// layout and updated in place, so an update never replaces a button under a finger.
"use strict";

window.RoomPads = (function () {
  let deps = null; // {call, result, actionWords, offlineWords}
  const built = { panels: "", cameras: "" };
  const held = new Map(); // element → release() for everything held down on the page
  const PRESET_STORE_MS = 1000;
  const MOVES = [
    ["up_left", "↖"], ["up", "↑"], ["up_right", "↗"],
    ["left", "←"], [null, "⌂"], ["right", "→"],
    ["down_left", "↙"], ["down", "↓"], ["down_right", "↘"],
  ];
  const MOVE_WORDS = { up: "up", down: "down", left: "left", right: "right", up_left: "up and left", up_right: "up and right", down_left: "down and left", down_right: "down and right", tele: "zoom in", wide: "zoom out" };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A card's result line: hidden until a press has something to say.
  function resultBox() {
    const result = el("p", "result");
    result.hidden = true;
    result.setAttribute("role", "status");
    result.setAttribute("aria-live", "polite");
    return result;
  }

  // Down while the pointer (or Space/Enter) is down; `up` runs once on release, on leaving
  // the button, on cancel, and when the page loses its connection or focus.
  function holdable(button, down, up) {
    const start = (event) => {
      if (button.disabled || held.has(button)) return;
      if (event.type === "pointerdown") {
        if (event.button !== 0) return;
        button.setPointerCapture?.(event.pointerId);
      }
      event.preventDefault();
      button.classList.add("is-held");
      held.set(button, stop);
      down();
    };
    const stop = () => {
      if (!held.has(button)) return;
      held.delete(button);
      button.classList.remove("is-held");
      up();
    };
    button.addEventListener("pointerdown", start);
    for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) button.addEventListener(name, stop);
    button.addEventListener("keydown", (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) start(event);
    });
    button.addEventListener("keyup", (event) => {
      if (event.key === " " || event.key === "Enter") stop();
    });
    button.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  function releaseAll() {
    for (const stop of Array.from(held.values())) stop();
  }

  const send = (method, params, label, node) =>
    deps.call(method, params).then(
      (reply) => reply,
      (err) => {
        deps.result(node, "bad", `${label}: ${err.message}`);
        return null;
      },
    );

  // ---- virtual panels ------------------------------------------------------------------

  function buttonNumbers(panel) {
    const numbers = new Set(panel.buttons.map((b) => b.button));
    for (const n of panel.led_numbers || []) numbers.add(n);
    const max = Math.max(0, ...numbers);
    return Array.from({ length: max }, (_, i) => i + 1);
  }

  function label(binding) {
    return binding ? deps.actionWords(binding.action) : "";
  }

  function buildPanel(panel) {
    const card = el("section", "card pad-card");
    card.dataset.panel = panel.name;
    const head = el("h2", "", "Panel ");
    head.append(el("span", "muted", `“${panel.name}”`));
    card.append(head);
    card.append(el("p", "pad-offline", ""));
    const screen = el("div", "panel-screen");
    screen.setAttribute("aria-label", `What ${panel.name} shows`);
    for (const line of panel.texts) {
      const row = el("div", "panel-line");
      row.dataset.line = line.line;
      screen.append(row);
    }
    if (panel.texts.length) card.append(screen);
    const grid = el("div", "panel-grid");
    const bound = new Map(panel.buttons.map((b) => [b.button, b]));
    for (const n of buttonNumbers(panel)) {
      const binding = bound.get(n);
      const key = el("button", "panel-key");
      key.type = "button";
      key.dataset.button = n;
      const tap = binding && (binding.press || binding.release);
      const words = [label(tap), binding && binding.hold ? `hold: ${label(binding.hold)}` : ""].filter(Boolean);
      key.setAttribute("aria-label", `Button ${n}${words.length ? ": " + words.join(", ") : ": not assigned"}`);
      key.append(el("span", "key-led"), el("span", "key-no", String(n)), el("span", "key-label", label(tap) || (binding ? "" : "not assigned")));
      if (binding && binding.hold) key.append(el("span", "key-hold", `hold: ${label(binding.hold)}`));
      if (!binding) key.classList.add("unbound");
      let holdTimer = null;
      holdable(
        key,
        () => {
          send("panel.press", { device: panel.name, button: n, kind: "press" }, `Button ${n}`, card);
          // A real keypad reports a hold after its hold time: so does this one.
          holdTimer = setTimeout(() => {
            holdTimer = null;
            send("panel.press", { device: panel.name, button: n, kind: "hold" }, `Button ${n}`, card);
          }, panel.hold_ms || 800);
        },
        () => {
          if (holdTimer) clearTimeout(holdTimer);
          holdTimer = null;
          send("panel.press", { device: panel.name, button: n, kind: "release" }, `Button ${n}`, card);
        },
      );
      grid.append(key);
    }
    card.append(grid);
    card.append(el("p", "pad-hint muted", "Tap a button, or hold it down; lights and text are what the panel in the room shows now."));
    card.append(resultBox());
    return card;
  }

  function updatePanel(card, panel, device) {
    const leds = new Map((panel.leds || []).map((l) => [l.led, l]));
    card.querySelectorAll(".panel-key").forEach((key) => {
      const led = leds.get(Number(key.dataset.button));
      const mode = led ? led.mode : "off";
      key.dataset.led = mode;
      key.dataset.colour = (led && led.colour) || "";
      key.querySelector(".key-led").title = mode === "off" ? "LED off" : `LED ${mode}${led.colour ? " " + led.colour : ""}`;
      key.disabled = !panel.online;
    });
    const texts = new Map((panel.texts || []).map((t) => [String(t.line), t.text]));
    card.querySelectorAll(".panel-line").forEach((row) => {
      row.textContent = texts.get(row.dataset.line) || " ";
    });
    card.classList.toggle("is-offline", !panel.online);
    const offline = card.querySelector(".pad-offline");
    offline.hidden = panel.online;
    offline.textContent = panel.online ? "" : deps.offlineWords(device);
  }

  // ---- PTZ pads ------------------------------------------------------------------------

  function buildCamera(camera) {
    const card = el("section", "card pad-card");
    card.dataset.camera = camera.name;
    const head = el("h2", "", "Camera ");
    head.append(el("span", "muted", `“${camera.name}”`));
    card.append(head, el("p", "pad-offline", ""));
    const body = el("div", "ptz");
    const pad = el("div", "ptz-pad");
    const moveButton = (move, text) => {
      const b = el("button", "ptz-key", text);
      b.type = "button";
      if (move === null) {
        b.setAttribute("aria-label", "Home position");
        b.addEventListener("click", () => send("camera.home", { camera: camera.name }, "Home", card));
        return b;
      }
      b.dataset.move = move;
      b.setAttribute("aria-label", `Move ${MOVE_WORDS[move]} (hold)`);
      holdable(
        b,
        () => send("camera.hold", { camera: camera.name, move }, `Move ${MOVE_WORDS[move]}`, card),
        () => send("camera.release", { camera: camera.name, move }, "Stop", card),
      );
      return b;
    };
    for (const [move, text] of MOVES) pad.append(moveButton(move, text));
    const zoom = el("div", "ptz-zoom");
    zoom.append(moveButton("tele", "+"), el("span", "muted", "zoom"), moveButton("wide", "−"));
    body.append(pad, zoom);
    card.append(body);

    const presets = el("div", "ptz-presets buttons");
    for (const n of camera.presets) {
      const b = el("button", "secondary preset-key", String(n));
      b.type = "button";
      b.dataset.preset = n;
      b.setAttribute("aria-label", `Preset ${n} (hold to store)`);
      let timer = null;
      let stored = false;
      holdable(
        b,
        () => {
          stored = false;
          timer = setTimeout(() => {
            timer = null;
            stored = true;
            send("camera.preset", { camera: camera.name, preset: n, mode: "set" }, `Store preset ${n}`, card).then(
              (reply) => reply && deps.result(card, "ok", `Preset ${n} stored: the camera's position now.`),
            );
          }, PRESET_STORE_MS);
        },
        () => {
          if (timer) clearTimeout(timer);
          timer = null;
          if (stored) return;
          send("camera.preset", { camera: camera.name, preset: n }, `Preset ${n}`, card).then(
            (reply) => reply && deps.result(card, "ok", `Preset ${n}: done.`),
          );
        },
      );
      presets.append(b);
    }
    card.append(el("h3", "pad-sub", "Presets"), presets, el("p", "pad-hint muted", "Tap to go there; hold 1 s to store where the camera is now."));

    const power = el("div", "ptz-power buttons");
    for (const [state, text] of [["on", "Power on"], ["off", "Standby"]]) {
      const b = el("button", "secondary", text);
      b.type = "button";
      b.dataset.power = state;
      b.addEventListener("click", () =>
        send("device.command", { device: camera.name, command: `power_${state}`, args: [] }, text, card).then(
          (reply) => reply && deps.result(card, "ok", `${text}: done.`),
        ),
      );
      power.append(b);
    }
    const report = el("dl", "facts camera-report");
    card.append(el("h3", "pad-sub", "Camera"), power, report, resultBox());
    return card;
  }

  function updateCamera(card, camera, device) {
    card.querySelectorAll("button").forEach((b) => (b.disabled = !camera.online));
    card.classList.toggle("is-offline", !camera.online);
    const offline = card.querySelector(".pad-offline");
    offline.hidden = camera.online;
    offline.textContent = camera.online ? "" : deps.offlineWords(device);
    const report = camera.report || {};
    const facts = [
      ["Power", report.power ? { on: "On", off: "Standby", standby: "Standby" }[report.power] || report.power : camera.online ? "Asking…" : "—"],
      ["Firmware", report.firmware || "—"],
    ];
    if (report.error) facts.push(["Last answer", report.error]);
    const list = card.querySelector(".camera-report");
    list.replaceChildren();
    for (const [k, v] of facts) list.append(el("dt", "", k), el("dd", "", v));
  }

  // ---- render ---------------------------------------------------------------------------

  function render(status) {
    const root = document.getElementById("pads");
    if (!root) return;
    const panels = status.panels || [];
    const cameras = status.cameras || [];
    const devices = new Map((status.devices || []).map((d) => [d.name, d]));
    const panelKey = JSON.stringify(panels.map((p) => [p.name, p.buttons, p.led_numbers, p.texts.map((t) => t.line)]));
    const cameraKey = JSON.stringify(cameras.map((c) => [c.name, c.presets]));
    if (panelKey !== built.panels || cameraKey !== built.cameras) {
      releaseAll();
      built.panels = panelKey;
      built.cameras = cameraKey;
      root.replaceChildren(...panels.map(buildPanel), ...cameras.map(buildCamera));
    }
    for (const panel of panels) {
      const card = root.querySelector(`[data-panel="${CSS.escape(panel.name)}"]`);
      if (card) updatePanel(card, panel, devices.get(panel.name));
    }
    for (const camera of cameras) {
      const card = root.querySelector(`[data-camera="${CSS.escape(camera.name)}"]`);
      if (card) updateCamera(card, camera, devices.get(camera.name));
    }
    root.hidden = !panels.length && !cameras.length;
  }

  // The page loses its connection or its focus: nothing stays held (the agent stops a held
  // move of a closed socket by itself; this keeps the page's own state honest).
  window.addEventListener("blur", releaseAll);
  document.addEventListener("visibilitychange", () => document.hidden && releaseAll());

  return {
    el,
    init: (d) => (deps = d),
    render,
    releaseAll,
  };
})();
