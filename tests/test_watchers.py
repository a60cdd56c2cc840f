"""roomagent/watchers.py: the one way a part keeps its watchers."""

from __future__ import annotations

import logging

import pytest

from roomagent.watchers import Watchers

log = logging.getLogger("roomagent.test")


def test_every_watcher_hears_in_order_until_it_unsubscribes() -> None:
    heard: list[tuple[str, int]] = []
    watchers: Watchers[[int]] = Watchers(log, "test")
    stop_a = watchers.watch(lambda n: heard.append(("a", n)))
    watchers.watch(lambda n: heard.append(("b", n)))
    watchers.emit(1)
    stop_a()
    stop_a()  # a second unsubscribe does nothing
    watchers.emit(2)
    assert heard == [("a", 1), ("b", 1), ("b", 2)]
    assert len(watchers) == 1


def test_a_failing_watcher_is_logged_and_the_rest_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[str] = []
    watchers: Watchers[[]] = Watchers(log, "calendar")

    def broken() -> None:
        raise RuntimeError("bug in a watcher")

    watchers.watch(broken)
    watchers.watch(lambda: heard.append("told"))
    with caplog.at_level(logging.WARNING, "roomagent.test"):
        watchers.emit()
    assert heard == ["told"]
    assert [r.getMessage() for r in caplog.records] == ["calendar watcher failed"]


def test_a_watcher_may_unsubscribe_while_being_told() -> None:
    heard: list[str] = []
    watchers: Watchers[[]] = Watchers(log, "test")

    def once() -> None:
        heard.append("once")
        stop()

    stop = watchers.watch(once)
    watchers.watch(lambda: heard.append("other"))
    watchers.emit()
    watchers.emit()
    assert heard == ["once", "other", "other"]
