"""The fleet plane: this room on an MQTT broker (docs/fleet.md, spec fleet.md).

topics.py (names), broker.py (connection settings), commands.py (cmd payloads, de-dup),
discovery.py (Home Assistant configs), bridge.py (the agent's peer part), view.py (the
fleet as seen from the broker), tools.py (status/call/watch), server.py (the fleet page).
"""
