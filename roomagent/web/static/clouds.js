// The page's cloud-meeting block: the Quanshi meeting behind the booking's link and
// "invite a number into this room's Huawei meeting". Separate from app.js; it hooks in
// through window.roomPage. Values go in with textContent only.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const STATUS_WORDS = { created: "Scheduled", ended: "Ended", cancelled: "Cancelled" };

  function hm(iso) {
    const d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "—";
  }

  function fact(list, term, value) {
    const el = window.RoomPads.el; // the page scripts' one el(): text as textContent
    list.append(el("dt", "", term), el("dd", "", value));
  }

  function renderDetail(detail) {
    const box = $("meeting-detail");
    box.hidden = !detail;
    if (!detail) return;
    const list = $("detail-facts");
    list.replaceChildren();
    $("detail-heading").textContent =
      `Quanshi meeting of the ${detail.booking === "next" ? "next" : "current"} booking`;
    if (detail.error) {
      fact(list, "Problem", detail.error);
      return;
    }
    fact(list, "Title", detail.title || "—");
    fact(list, "Time", `${hm(detail.start)}–${hm(detail.end)}`);
    fact(list, "Status", STATUS_WORDS[detail.status] || detail.status || "—");
    fact(list, "Host", detail.host || "—");
    const room = detail.this_room;
    fact(list, "This room", room ? `booked, ${room.approval}` : "not booked in the meeting");
    fact(list, "Joins here", detail.tencent_code
      ? `with Tencent code ${detail.tencent_code}`
      : "no Tencent meeting code: join from a Quanshi client");
  }

  function render(status) {
    const clouds = status.clouds;
    $("card-clouds").hidden = !clouds;
    if (!clouds) return;
    renderDetail(clouds.meeting_detail);
    const conference = clouds.huawei_conference;
    const form = $("invite-form");
    form.hidden = !clouds.huawei;
    $("invite-send").disabled = !conference;
    $("invite-heading").textContent = conference
      ? `Invite a number into this room's Huawei meeting “${conference.subject || conference.conference_id}”`
      : "Invite a number into this room's Huawei meeting (none in progress)";
  }

  function result(tone, text) {
    const node = $("clouds-result");
    node.hidden = false;
    node.className = `result tone-${tone}`;
    node.textContent = text;
  }

  async function invite(event) {
    event.preventDefault();
    const how = $("invite-how").value;
    const params = {
      name: $("invite-name").value.trim(),
      [how]: $("invite-address").value.trim(),
      role: $("invite-host").checked ? "host" : "participant",
    };
    const button = $("invite-send");
    button.disabled = true;
    result("wait", `Inviting ${params.name}…`);
    try {
      const reply = await window.roomPage.call("huawei.invite", params);
      result("ok", `${reply && reply.result ? reply.result : "Invited"}.`);
      $("invite-address").value = "";
    } catch (err) {
      result("bad", `Invite: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  function start() {
    if (!window.roomPage) return;
    window.roomPage.listeners.push(render);
    $("invite-form").addEventListener("submit", invite);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
