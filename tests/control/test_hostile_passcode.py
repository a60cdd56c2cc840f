"""Meeting passcodes against the real agent and simulator: masked by field wherever they
occur, never registered as global secrets (a registered "456" masked every meeting code
holding it: `123***789`), so the registry stays bounded however many joins are tried."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest

from roomagent import logsetup
from roomagent.control.actions import ActionError
from tests.control.conftest import WAIT_S, running_room
from tests.logcapture import agent_log

pytestmark = pytest.mark.anyio

CODE = "123456789"
PASSCODE = "456"


async def test_a_passcode_never_changes_status_and_never_reaches_the_log(tmp_path: Path) -> None:
    with agent_log("debug") as log:
        async with running_room(tmp_path) as room:
            room.sim.meeting_passwords[CODE] = PASSCODE
            registered = len(logsetup._secrets)
            for n in range(30):  # refused joins, each with its own passcode
                with pytest.raises(ActionError, match="wrong meeting password"):
                    await room.agent.perform(
                        {"action": "meeting.join", "meeting_code": CODE, "password": f"7{n:03d}"}
                    )
            assert len(logsetup._secrets) == registered
            await room.agent.perform(
                {"action": "meeting.join", "meeting_code": CODE, "password": PASSCODE}
            )
            with anyio.fail_after(WAIT_S):
                while room.agent.status()["meeting"]["code"] != CODE:  # noqa: ASYNC110
                    await anyio.sleep(0.02)  # the status has no change event of its own
            status = room.agent.status()
            assert logsetup.scrub(status)["meeting"]["code"] == CODE  # as the API shows it
            assert logsetup.redact(f"meeting {CODE}") == f"meeting {CODE}"
            assert len(logsetup._secrets) == registered
    text = log.getvalue()
    assert "JoinMeeting" in text  # the frames were logged, at debug
    # As a value anywhere (a JSON field, key=value); "123 456 789" in a title is no leak.
    assert not re.search(rf'[=:]\s*\\?"?({PASSCODE}|7\d{{3}})\b(?! \d)', text)
