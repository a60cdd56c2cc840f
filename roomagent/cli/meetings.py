"""Sub-commands that book or change meetings in a cloud: `book` and `invite` (Huawei Cloud
Meeting) and `recurring` (Yunzhijia's repeating meetings)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from roomagent.cli.common import (
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    CliError,
    Commands,
    command,
    config_arg,
    group,
)
from roomagent.cli.scheduling import config_of
from roomagent.config.model import AgentConfig, HuaweiSection
from roomagent.scheduling.http import CloudError, CloudTimeout, CloudUnreachable

REPEATS = {"none": 0, "workday": 1, "daily": 2, "weekly": 3, "biweekly": 4, "monthly": 5}


def register(commands: Commands) -> None:
    book = commands.add("book", cmd_book, "book a cloud meeting (validated before sending)")
    config_arg(book)
    book.add_argument("--provider", required=True, choices=["huawei"], help="the cloud to book on")
    book.add_argument("--subject", required=True, help="at most 128 characters")
    book.add_argument("--start", required=True, help="ISO 8601, e.g. 2026-11-23T10:00+08:00")
    book.add_argument("--minutes", type=int, default=30, help="length, 15..1440 (default 30)")
    book.add_argument(
        "--kind",
        choices=["normal", "personal", "cloud_room"],
        default="normal",
        help="personal meeting ID / cloud meeting room need a VMR id",
    )
    book.add_argument("--vmr-id", default=None, help="default: cloud.huawei.vmr_id")
    book.add_argument("--media", choices=["video", "audio"], default="video", help="default: video")
    book.add_argument("--data", action="store_true", help="add data sharing to the media")

    invite = commands.add("invite", cmd_invite, "invite someone into a running cloud meeting")
    config_arg(invite)
    invite.add_argument("--provider", required=True, choices=["huawei"], help="the cloud")
    invite.add_argument("--conference", required=True, help="conference ID")
    invite.add_argument("--name", required=True, help="the invitee's name (≤96 characters)")
    how = invite.add_mutually_exclusive_group(required=True)
    how.add_argument("--phone", help="number or SIP URI: the meeting calls it")
    how.add_argument("--email", help="e-mail address (no notification during a meeting)")
    how.add_argument("--sms", help="mobile number for SMS (no notification during a meeting)")
    invite.add_argument(
        "--role",
        choices=["participant", "host"],
        default="participant",
        help="default: participant",
    )

    rec_sub = group(
        commands.top,
        "recurring",
        "Yunzhijia repeating meetings",
        dest="recurring_command",
        metavar="ACTION",
    )
    create = command(
        rec_sub, "create", cmd_recurring_create, "repeatMeeting: a series (first id: the parent)"
    )
    modify = command(rec_sub, "modify", cmd_recurring_modify, "batchModify one meeting of a series")
    cancel = command(rec_sub, "cancel", cmd_recurring_cancel, "batchCancel one meeting of a series")
    for parser in (create, modify, cancel):
        config_arg(parser)
    for parser in (modify, cancel):
        parser.add_argument("--id", required=True, help="the meeting to change")
        parser.add_argument(
            "--parent", default=None, help="the series' parent id (sent as batchId for others)"
        )
    for parser in (create, modify):
        parser.add_argument("--title", required=True, help="the meeting's title")
        parser.add_argument("--content", default="", help="the meeting's text")
        parser.add_argument("--start", required=True, help="first meeting's start, ISO 8601")
        parser.add_argument("--end", required=True, help="first meeting's end, ISO 8601")
        parser.add_argument("--repeat", required=True, choices=list(REPEATS), help="how often")
        parser.add_argument("--until", required=True, help="repeatEndDate, ISO 8601")
        parser.add_argument("--actor", action="append", default=[], help="an actor's openid")


def _moment(flag: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: not an ISO 8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.astimezone()  # bare: the agent's local time


def _run(call: Any) -> Any:
    """Exit 1 for a broken rule or a refusal (with the vendor's words), 2 when unreachable."""
    import anyio

    try:
        return anyio.run(call)
    except (CloudUnreachable, CloudTimeout) as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    except CloudError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None


def _huawei(config: AgentConfig) -> HuaweiSection:
    if config.cloud.huawei is None:
        raise CliError("Huawei Cloud Meeting is not configured: add a [cloud.huawei] section")
    return config.cloud.huawei


def cmd_book(args: argparse.Namespace) -> int:
    from roomagent.scheduling import huawei_booked
    from roomagent.scheduling.huawei import HuaweiClient, MeetingRequest

    config = config_of(args.config)
    section = _huawei(config)
    media = "HDVideo" if args.media == "video" else "Voice"
    request = MeetingRequest(
        start=_moment("--start", args.start),
        length=args.minutes,
        subject=args.subject,
        media_types=f"{media},Data" if args.data else media,
        kind=args.kind,
        vmr_id=args.vmr_id or section.vmr_id,
    )

    async def book() -> dict[str, Any]:
        async with HuaweiClient(section) as client:
            conference = await client.book(request)
        try:
            huawei_booked.remember(config.state_dir, conference)
        except OSError as exc:  # booked all the same: say so, do not fail
            print(f"roomagent: note: not recorded in {config.state_dir}: {exc}", file=sys.stderr)
        return conference.as_dict()

    print(json.dumps(_run(book), ensure_ascii=False))
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    from roomagent.scheduling.huawei import Attendee, HuaweiClient

    section = _huawei(config_of(args.config))
    attendee = Attendee.invitee(args.name, args.phone, args.email, args.sms, args.role == "host")

    async def invite() -> dict[str, Any]:
        async with HuaweiClient(section) as client:
            result = await client.invite(args.conference, [attendee])
        return result.as_dict()

    shown = _run(invite)
    print(json.dumps(shown, ensure_ascii=False))
    for note in shown["notes"]:
        print(f"roomagent: note: {note}", file=sys.stderr)
    return 0


def _yzj_client(args: argparse.Namespace) -> tuple[Any, str]:
    from roomagent.scheduling.yunzhijia import YunzhijiaClient

    section = config_of(args.config).calendar.yunzhijia
    if section is None:
        raise CliError("Yunzhijia is not configured: add a [calendar.yunzhijia] section")
    if not section.open_id:
        raise CliError("set calendar.yunzhijia.open_id: the creator of the meetings")
    try:
        return YunzhijiaClient(section), section.open_id
    except CloudError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None


def _meeting_fields(args: argparse.Namespace, open_id: str) -> dict[str, Any]:
    """What repeatMeeting and batchModify share, from the command line."""
    return {
        "openid": open_id,
        "title": args.title,
        "content": args.content,
        "start": _moment("--start", args.start),
        "end": _moment("--end", args.end),
        "actors": args.actor,
    }


def cmd_recurring_create(args: argparse.Namespace) -> int:
    from roomagent.scheduling.yunzhijia import RepeatMeeting

    client, open_id = _yzj_client(args)
    meeting = RepeatMeeting(
        **_meeting_fields(args, open_id),
        repeat=REPEATS[args.repeat],  # type: ignore[arg-type]
        repeat_end=_moment("--until", args.until),
    )

    async def create() -> dict[str, Any]:
        async with client:
            series = await client.repeat_meeting(meeting)
        return {"parent_id": series.parent_id, "meeting_ids": series.meeting_ids}

    print(json.dumps(_run(create)))
    return 0


def _batch_id(args: argparse.Namespace) -> str | None:
    """The seed's rule: the parent (first id of the series) is sent without batchId; any
    other meeting of the series carries the parent's id as batchId."""
    return args.parent if args.parent and args.parent != args.id else None


def cmd_recurring_modify(args: argparse.Namespace) -> int:
    from roomagent.scheduling.yunzhijia import MeetingChange

    client, open_id = _yzj_client(args)
    change = MeetingChange(id=args.id, **_meeting_fields(args, open_id))
    repeat, until = REPEATS[args.repeat], _moment("--until", args.until)

    async def modify() -> dict[str, Any]:
        async with client:
            await client.batch_modify(change, repeat, until, _batch_id(args))
        return {"modified": args.id, "batch_id": _batch_id(args)}

    print(json.dumps(_run(modify)))
    return 0


def cmd_recurring_cancel(args: argparse.Namespace) -> int:
    client, open_id = _yzj_client(args)

    async def cancel() -> dict[str, Any]:
        async with client:
            await client.batch_cancel(args.id, open_id, _batch_id(args))
        return {"cancelled": args.id, "batch_id": _batch_id(args)}

    print(json.dumps(_run(cancel)))
    return 0
