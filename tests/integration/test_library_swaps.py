"""Library swaps that need a database: the iCalendar feed's DTSTAMP (RFC 5545 §3.8.7.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from disclosure.services import cases
from disclosure.services.alerts import ics_feed
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, application
from tests.integration.test_case_service import drive


def _case_due_soon(app: App) -> int:
    case_id = cases.register(app, application(received_on="2026-11-02"), "alice", TODAY)
    drive(
        app, case_id, [("review", "alice", "2026-11-02", {}), ("accept", "alice", "2026-11-03", {})]
    )
    return case_id


def _stamps(feed: bytes) -> list[datetime]:
    events = Calendar.from_ical(feed).walk("VEVENT")
    assert events, "the feed lists no event"
    return [event.decoded("dtstamp") for event in events]


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC),
        datetime(2026, 11, 24, 9, 2, 3, tzinfo=ZoneInfo("Asia/Shanghai")),  # the same instant
    ],
    ids=["utc", "agency-time"],
)
def test_the_feed_stamps_every_event_in_utc_with_the_time_it_was_made(
    app: App, now: datetime
) -> None:
    _case_due_soon(app)
    with app.uow() as uow:
        feed = ics_feed(uow.session, app.settings, TODAY, now=now)
    assert b"DTSTAMP:20261124T010203Z\r\n" in feed
    for stamp in _stamps(feed):
        assert stamp == datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)
        assert stamp.utcoffset() == timedelta(0)


def test_without_now_the_feed_is_stamped_with_the_current_utc_time(app: App) -> None:
    _case_due_soon(app)
    before = datetime.now(UTC).replace(microsecond=0)
    with app.uow() as uow:
        feed = ics_feed(uow.session, app.settings, TODAY)
    after = datetime.now(UTC)
    for stamp in _stamps(feed):
        assert stamp.utcoffset() == timedelta(0) and before <= stamp <= after


def test_a_naive_now_is_refused(app: App) -> None:
    with app.uow() as uow, pytest.raises(ValueError, match="naive"):
        ics_feed(uow.session, app.settings, TODAY, now=datetime(2026, 11, 24, 9, 0))
