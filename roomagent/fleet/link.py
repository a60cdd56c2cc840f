"""The bridge's link to the broker as the room's page shows it (status.fleet): the state, since
when, why not, the last publish; and the words for a broker that takes the login but does not
send the room's own messages back (its ACL gives the account other topics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from roomagent.fleet.broker import Broker
from roomagent.fleet.topics import RoomTopics


def _now() -> datetime:
    return datetime.now().astimezone()


@dataclass
class BrokerLink:
    """connected | connecting (the first attempt) | reconnecting (with the reason)."""

    on_change: Callable[[], None] = lambda: None  # told (sync) of a new state or reason
    state: str = "connecting"
    since: datetime = field(default_factory=_now)
    last_error: str | None = None
    last_publish: datetime | None = None

    def set(self, state: str, error: str | None) -> None:
        changed = (state, error) != (self.state, self.last_error)
        if state != self.state:
            self.since = _now()
        self.state, self.last_error = state, error
        if changed:
            self.on_change()

    def published(self) -> None:
        self.last_publish = _now()


def acl_words(topics: RoomTopics, broker: Broker, seconds: float) -> str:
    account = f"account {broker.username!r}" if broker.username else "this account"
    return (
        f"the broker did not send this room's own 'online' back within {seconds:g} s: its ACL "
        f"probably does not let {account} use {topics.base}/… (the room needs to read and "
        f"write there; with the shipped ACL the account must be named as the room id "
        f"{topics.room!r}: set [room] id to the account name)"
    )
