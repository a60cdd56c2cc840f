"""Sub-commands for the scheduling concern: `calendar`, `meeting-info` and `sim clouds`
(loopback stand-ins of the three clouds for demos); booking is in cli/meetings.py."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from roomagent.app import load_room_config
from roomagent.cli.common import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    CliError,
    Commands,
    config_arg,
)
from roomagent.config.loader import ConfigError
from roomagent.config.model import AgentConfig
from roomagent.scheduling.http import CloudAuthError, CloudError, CloudUnreachable

T = TypeVar("T")


def register(commands: Commands) -> None:
    """`calendar`, `meeting-info` and `sim clouds`."""
    cal = commands.add(
        "calendar", cmd_calendar, "sync the room calendar once and print its bookings"
    )
    config_arg(cal)
    cal.add_argument("--resync", action="store_true", help="read the whole feed from scratch")

    info = commands.add(
        "meeting-info", cmd_meeting_info, "resolve a Quanshi join link to its meeting"
    )
    info.add_argument("url", help="attendee join link")
    config_arg(info)

    sims = commands.add_sim(
        "clouds",
        cmd_sim_clouds,
        "loopback Yunzhijia/Huawei/Quanshi servers",
        default_log_level="info",
    )
    sims.add_argument("--port", type=int, default=0, help="first port (0: any free ports)")


def config_of(path: str) -> AgentConfig:
    try:
        return load_room_config(path)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None


def _run_cloud(call: Callable[[], Awaitable[T]]) -> T:
    """Run one async cloud call; vendor failures become one-line CLI errors."""
    try:
        return anyio.run(call)
    except CloudUnreachable as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    except CloudAuthError as exc:
        raise CliError(str(exc), EXIT_AUTH) from None
    except CloudError as exc:  # MissingToken included: a setup problem, not a refusal
        raise CliError(str(exc), EXIT_FAILED) from None


def cmd_calendar(args: argparse.Namespace) -> int:
    from roomagent.scheduling.calendar import RoomCalendar

    config = config_of(args.config)
    calendar = RoomCalendar.from_config(config)
    if calendar is None:
        raise CliError("no calendar is configured: add a [calendar.yunzhijia] section")
    full = True if args.resync else None
    _run_cloud(lambda: calendar.sync_once(full=full))
    for booking in calendar.bookings():
        line = {
            "orderId": booking.order_id,
            "title": booking.title,
            "start": booking.start.isoformat(),
            "end": booking.end.isoformat(),
            "booked_by": booking.booked_by,
        }
        print(json.dumps(line, ensure_ascii=False))
    return 0


def cmd_meeting_info(args: argparse.Namespace) -> int:
    from roomagent.scheduling.quanshi import QuanshiClient

    config = config_of(args.config)
    section = config.cloud.quanshi
    if section is None:
        raise CliError("Quanshi is not configured: add a [cloud.quanshi] section")

    yzj = config.calendar.yunzhijia
    names = [n for n in (config.room.name, yzj and yzj.room_name, yzj and yzj.room_id) if n]

    async def fetch() -> dict[str, Any]:
        async with QuanshiClient(section) as client:
            meeting = await client.meeting_by_join_link(args.url)
        shown = meeting.as_dict()
        # Is this room booked for the meeting, and is that booking approved?
        ours = next((h for h in map(meeting.room_booking, names) if h is not None), None)
        shown["this_room"] = ours.as_dict() if ours else None
        return shown

    print(json.dumps(_run_cloud(fetch), ensure_ascii=False, indent=2))
    return 0


def cmd_sim_clouds(args: argparse.Namespace) -> int:
    import os
    import threading

    from roomagent.sim.clouds import HuaweiCloud, QuanshiCloud, YunzhijiaCloud

    def env(name: str, fallback: str) -> str:
        return os.environ.get(name) or fallback

    port = args.port
    yzj = YunzhijiaCloud(
        env("ROOMAGENT_YZJ_TOKEN", "yzj-demo"),
        port=port,
        secret=env("ROOMAGENT_YZJ_SECRET", "yzj-secret-demo"),
    )
    hwm = HuaweiCloud(
        env("ROOMAGENT_HWM_TOKEN", "hwm-demo"),
        port=port + 1 if port else 0,
        app_key=env("ROOMAGENT_HWM_APP_KEY", "hwm-app-key-demo"),
        password=env("ROOMAGENT_HWM_PASSWORD", "hwm-password-demo"),
        chair_password=env("ROOMAGENT_HWM_CHAIR_PASSWORD", "834201"),
    )
    qs = QuanshiCloud(env("ROOMAGENT_QS_TOKEN", "qs-demo"), port=port + 2 if port else 0)
    clouds = [yzj, hwm, qs]
    for cloud in clouds:
        cloud.start()
    print(f"yunzhijia base_url = {yzj.url}")
    print(f"huawei base_url = {hwm.url}")
    print(f"quanshi url = {qs.endpoint}")
    print(
        f"yunzhijia eid {yzj.eid}; huawei app_id {hwm.app_id}, account {hwm.account}, "
        f"running conference {hwm.RUNNING_CONFERENCE}"
    )
    # These are throw-away demo credentials of a local stand-in, so saying them is safe.
    print(
        "credentials: the servers accept $ROOMAGENT_YZJ_TOKEN / $ROOMAGENT_YZJ_SECRET, "
        "$ROOMAGENT_HWM_TOKEN / $ROOMAGENT_HWM_APP_KEY / $ROOMAGENT_HWM_PASSWORD / "
        "$ROOMAGENT_HWM_CHAIR_PASSWORD, $ROOMAGENT_QS_TOKEN as set here (unset: yzj-demo, "
        "yzj-secret-demo, hwm-demo, hwm-app-key-demo, hwm-password-demo, 834201, qs-demo)",
        flush=True,
    )
    try:
        threading.Event().wait()
    finally:
        for cloud in clouds:
            cloud.stop()
    return 0
