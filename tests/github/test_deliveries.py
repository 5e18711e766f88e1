"""Backfill's decisions, without I/O: which deliveries prbot missed, and what is still awaited."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.github.deliveries import Missed, awaiting, hopeless, missed
from bot.github.shapes import HookDelivery


def attempt(id: int, guid: str, status: int, minute: int = 0) -> HookDelivery:
    """Return one attempt, `minute` minutes after noon."""
    at = datetime(2026, 5, 4, 12, minute, tzinfo=UTC)
    return HookDelivery(
        id=id, guid=guid, delivered_at=at, status_code=status, event="pull_request",
        action="opened", redelivery=id > 10,
    )  # fmt: skip


def test_a_delivery_with_any_2xx_attempt_is_not_missed() -> None:
    found = missed(
        [
            attempt(12, "a", 202, 5),  # redelivered and accepted
            attempt(11, "b", 503, 4),
            attempt(3, "c", 0, 3),
            attempt(2, "b", 0, 2),
            attempt(1, "a", 0, 1),
        ]
    )
    assert [(m.guid, m.newest_id, m.attempts, m.last_status) for m in found] == [
        ("b", 11, 2, 503),  # first tried at 12:02
        ("c", 3, 1, 0),
    ]
    assert found[0].name == "pull_request.opened"
    assert found[0].first_ms == int(datetime(2026, 5, 4, 12, 2, tzinfo=UTC).timestamp() * 1000)


def test_nothing_missed_in_an_empty_or_healthy_history() -> None:
    assert missed([]) == []
    assert missed([attempt(1, "a", 200), attempt(2, "b", 202)]) == []


def test_an_ask_is_awaited_until_a_newer_attempt_shows() -> None:
    item = Missed("b", 11, "pull_request", None, 0, 2, 503)
    assert item.name == "pull_request"
    assert not awaiting(item, None)  # never asked
    assert awaiting(item, 11)  # asked after attempt 11: GitHub has not tried again
    assert not awaiting(item, 7)  # attempt 11 came after the ask, and failed


def test_only_a_body_the_receiver_keeps_refusing_is_given_up() -> None:
    def item(status: int, attempts: int) -> Missed:
        return Missed("g", 1, "pull_request", None, 0, attempts, status)

    assert hopeless(item(400, 3)) and hopeless(item(413, 4))
    assert not hopeless(item(400, 2))  # maybe a passing problem: once more
    for outage in (0, 401, 500, 502, 503):  # down, wrong secret for a while, overloaded: heals
        assert not hopeless(item(outage, 10))
