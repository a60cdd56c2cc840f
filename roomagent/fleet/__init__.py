"""The fleet plane: this room on an MQTT broker (docs/fleet.md, spec fleet.md).

topics.py (names), room_id.py (the room's id in them), broker.py (connection settings),
commands.py (cmd payloads, de-dup), outbox.py (events held while the broker is away),
discovery.py (Home Assistant configs), bridge.py (the agent's peer part; link.py its state
for the room's page, legacy.py what the old topic id left on the broker), view.py (the fleet
as seen from the broker), tools.py (status/call/watch), feed.py (the fleet page's live feed;
the page is web/fleet_page.py).
"""
