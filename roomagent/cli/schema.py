"""`roomagent schema status|event`: the JSON Schemas of the typed room model, for integrators
who read the API, the live updates or the fleet bridge's payloads (docs/api.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import BaseModel

from roomagent.cli.common import EXIT_OK, Commands
from roomagent.control.model import HistoryEvent, RoomStatus

SCHEMAS: dict[str, type[BaseModel]] = {"status": RoomStatus, "event": HistoryEvent}


def register(commands: Commands) -> None:
    schema = commands.add(
        "schema",
        cmd_schema,
        "print the JSON Schema of the room status or of a history event",
        "Print the JSON Schema (draft 2020-12) of the `status` the API and the "
        "live updates send, or of one history `event`.",
    )
    schema.add_argument("what", choices=sorted(SCHEMAS), help="status or event")


def json_schema(what: str) -> dict[str, Any]:
    model = SCHEMAS[what]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(mode="serialization"),
    }


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(args.what), indent=2, ensure_ascii=False))
    return EXIT_OK
