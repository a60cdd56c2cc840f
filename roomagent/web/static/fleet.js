// The page's fleet block: the MQTT bridge's state (status.fleet) and, when the broker cannot
// be reached or the [mqtt] config cannot be used, a line in "What needs attention". Separate
// from app.js; it hooks in through window.roomPage. Values go in with textContent only.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const STATE_WORDS = {
    connected: ["Connected", "ok"],
    connecting: ["Connecting…", "wait"],
    reconnecting: ["Broker not reachable", "bad"],
    disabled: ["Off: the [mqtt] settings cannot be used", "bad"],
  };

  function fact(list, term, value) {
    const el = window.RoomPads.el;
    const dd = el("dd", "", value);
    list.append(el("dt", "", term), dd);
    return dd;
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const capital = (text) => (text ? text[0].toUpperCase() + text.slice(1) : "");

  function problems(status) {
    const fleet = status.fleet;
    if (!fleet || fleet.state === "connecting") return [];
    if (fleet.state === "connected") {
      return fleet.last_error ? [["warn", "Fleet broker (MQTT): connected, but this room's messages do not get through", capital(fleet.last_error)]] : [];
    }
    const page = window.roomPage;
    if (fleet.state === "disabled") {
      return [["warn", "Fleet broker (MQTT): off", capital(fleet.last_error || "the [mqtt] settings cannot be used")]];
    }
    const since = fleet.since ? ` since ${page.when(fleet.since)}` : "";
    const waiting = fleet.outbox ? ` ${plural(fleet.outbox, "event waits", "events wait")} for it.` : "";
    const why = `${capital(fleet.last_error || "no answer")} (${fleet.broker || "broker"}). ` +
      `The room works on its own; the fleet and Home Assistant see it again once the broker answers.${waiting}`;
    return [["warn", `Fleet broker (MQTT): not reachable${since}`, why]];
  }

  function render(status) {
    const fleet = status.fleet;
    const card = $("card-fleet");
    card.hidden = !fleet;
    if (!fleet) return;
    const page = window.roomPage;
    const [words, tone] = STATE_WORDS[fleet.state] || [fleet.state, "wait"];
    $("fleet-state").replaceWith(Object.assign(page.pill(tone, words), { id: "fleet-state" }));
    const list = $("fleet-facts");
    list.replaceChildren();
    if (fleet.last_error) fact(list, "Problem", capital(fleet.last_error));
    if (fleet.broker) fact(list, "Broker", fleet.broker);
    if (fleet.topic) fact(list, "Topics", `${fleet.topic}/…`);
    const roomId = (status.room || {}).id;
    if (fleet.topic_id) {
      // The room's id and the one in its topics and Home Assistant: the same unless [room] id
      // has characters a topic level cannot carry.
      const same = fleet.topic_id === roomId;
      fact(list, "Room id", same ? roomId : `${roomId} (in topics and Home Assistant: ${fleet.topic_id})`);
    }
    if (fleet.since) fact(list, fleet.state === "connected" ? "Connected" : "Since", page.when(fleet.since));
    if (fleet.state !== "disabled") {
      fact(list, "Last published", fleet.last_publish ? page.when(fleet.last_publish) : "nothing yet");
      const dropped = fleet.outbox_dropped ? `, ${fleet.outbox_dropped} dropped while away` : "";
      fact(list, "Events waiting", `${fleet.outbox}${dropped}`).id = "fleet-outbox";
      fact(list, "Fleet commands", `${fleet.commands_accepted} run, ${fleet.commands_refused} refused`);
    }
  }

  function start() {
    if (!window.roomPage) return;
    window.roomPage.listeners.push(render);
    window.roomPage.problemSources.push(problems);
  }

  start(); // before the first status arrives: app.js made window.roomPage already
})();
