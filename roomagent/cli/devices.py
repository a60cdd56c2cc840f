"""Sub-commands for the devices concern."""

from __future__ import annotations

from typing import Any


def register(sub: Any, sim_sub: Any) -> None:
    """Add this concern's sub-commands to `sub` (and simulators to `sim_sub`)."""
    del sub, sim_sub
