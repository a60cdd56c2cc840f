"""Sub-commands for the scheduling concern: `calendar`, `meeting-info`, `book`,
and `sim clouds` (loopback stand-ins of the three clouds for demos)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import anyio

from roomagent.app import load_room_config
from roomagent.cli.common import EXIT_AUTH, EXIT_FAILED, EXIT_UNREACHABLE, CliError
from roomagent.config.loader import ConfigError
from roomagent.config.model import AgentConfig
from roomagent.scheduling.http import CloudAuthError, CloudError, CloudUnreachable

T = TypeVar("T")


def register(sub: Any, sim_sub: Any) -> None:
    """Add this concern's sub-commands to `sub` (and simulators to `sim_sub`)."""
    cal = sub.add_parser("calendar", help="sync the room calendar once and print its bookings")
    cal.add_argument("--config", required=True, help="agent config file (TOML)")
    cal.set_defaults(func=cmd_calendar)

    info = sub.add_parser("meeting-info", help="resolve a Quanshi join link to its meeting")
    info.add_argument("url", help="attendee join link")
    info.add_argument("--config", required=True, help="agent config file (TOML)")
    info.set_defaults(func=cmd_meeting_info)

    book = sub.add_parser("book", help="book a cloud meeting (validated before sending)")
    book.add_argument("--config", required=True, help="agent config file (TOML)")
    book.add_argument("--provider", required=True, choices=["huawei"], help="the cloud to book on")
    book.add_argument("--subject", required=True, help="the meeting's title")
    book.add_argument("--start", required=True, help="ISO 8601, e.g. 2026-11-23T10:00+08:00")
    book.add_argument("--minutes", type=int, default=30, help="length, 15..1440 (default 30)")
    book.add_argument(
        "--kind",
        choices=["normal", "personal", "cloud_room"],
        default="normal",
        help="personal meeting / cloud meeting room need a VMR id",
    )
    book.add_argument("--vmr-id", default=None, help="default: cloud.huawei.vmr_id")
    book.add_argument("--media", choices=["audio", "video"], default="video", help="default: video")
    book.add_argument("--custom", default=None, help="openCustomPara (≤64 characters)")
    book.set_defaults(func=cmd_book)

    sims = sim_sub.add_parser("clouds", help="loopback Yunzhijia/Huawei/Quanshi servers")
    sims.add_argument("--port", type=int, default=0, help="first port (0: any free ports)")
    sims.set_defaults(func=cmd_sim_clouds, default_log_level="info")


def _config(path: str) -> AgentConfig:
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

    config = _config(args.config)
    calendar = RoomCalendar.from_config(config)
    if calendar is None:
        raise CliError("no calendar is configured: add a [calendar.yunzhijia] section")
    _run_cloud(calendar.sync_once)
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

    config = _config(args.config)
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


def cmd_book(args: argparse.Namespace) -> int:
    from roomagent.scheduling.huawei import BookConfParam, ConfCommonParam, HuaweiClient

    config = _config(args.config)
    section = config.cloud.huawei
    if section is None:
        raise CliError("Huawei Cloud Meeting is not configured: add a [cloud.huawei] section")
    try:
        start = datetime.fromisoformat(args.start)
    except ValueError:
        raise CliError(f"--start: not an ISO 8601 time: {args.start!r}") from None
    if start.tzinfo is None:
        start = start.astimezone()  # a bare time means the agent's local time
    param = BookConfParam(
        start=start,
        confLen=args.minutes,
        confCommonParam=ConfCommonParam(
            subject=args.subject,
            confMediaType=args.media,
            vmrId=args.vmr_id or section.vmr_id,
        ),
        openCustomPara=args.custom,
        kind=args.kind,
    )

    async def book() -> dict[str, Any]:
        async with HuaweiClient(section) as client:
            booked = await client.book(param)
        return booked.as_dict()

    print(json.dumps(_run_cloud(book), ensure_ascii=False))
    return 0


def cmd_sim_clouds(args: argparse.Namespace) -> int:
    import os
    import threading

    from roomagent.sim.clouds import HuaweiCloud, QuanshiCloud, YunzhijiaCloud

    def token(env: str, fallback: str) -> str:
        return os.environ.get(env) or fallback

    port = args.port
    clouds = [
        YunzhijiaCloud(token("ROOMAGENT_YZJ_TOKEN", "yzj-demo"), port=port),
        HuaweiCloud(
            token("ROOMAGENT_HWM_TOKEN", "hwm-demo"),
            token("ROOMAGENT_HWM_CONF_TOKEN", "hwm-conf-demo"),
            port=port + 1 if port else 0,
        ),
        QuanshiCloud(token("ROOMAGENT_QS_TOKEN", "qs-demo"), port=port + 2 if port else 0),
    ]
    for cloud in clouds:
        cloud.start()
    yzj, hwm, qs = clouds
    assert isinstance(qs, QuanshiCloud)
    print(f"yunzhijia base_url = {yzj.url}", file=sys.stdout)
    print(f"huawei base_url = {hwm.url}", file=sys.stdout)
    print(f"quanshi url = {qs.endpoint}", file=sys.stdout)
    # These are throw-away demo credentials of a local stand-in, so saying them is safe.
    print(
        "tokens: the servers accept $ROOMAGENT_YZJ_TOKEN, $ROOMAGENT_HWM_TOKEN, "
        "$ROOMAGENT_HWM_CONF_TOKEN, $ROOMAGENT_QS_TOKEN as set here "
        "(unset: yzj-demo, hwm-demo, hwm-conf-demo, qs-demo)",
        file=sys.stdout,
        flush=True,
    )
    try:
        threading.Event().wait()
    finally:
        for cloud in clouds:
            cloud.stop()
    return 0
