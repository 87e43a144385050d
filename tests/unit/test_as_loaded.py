"""``models.db.as_loaded``: a row read with Core, as an ORM object that never answers None for
what it was not given."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import DetachedInstanceError

from disclosure.models.db import as_loaded
from disclosure.models.tables import Case, ClockEventRow


@pytest.fixture(autouse=True, scope="module")
def _mapped() -> None:
    configure_mappers()


def test_what_it_was_given_reads_back() -> None:
    case = as_loaded(Case, {"id": 7, "state": "registered", "received_on": date(2026, 11, 2)})
    assert (case.id, case.state, case.received_on) == (7, "registered", date(2026, 11, 2))


@pytest.mark.parametrize("attribute", ["description", "channel", "applicant", "clock_events"])
def test_a_column_or_relationship_it_was_not_given_raises_instead_of_answering_none(
    attribute: str,
) -> None:
    case = as_loaded(Case, {"id": 7, "state": "registered"})
    with pytest.raises(DetachedInstanceError):
        getattr(case, attribute)


def test_a_relationship_given_afterwards_reads_back() -> None:
    case = as_loaded(Case, {"id": 7})
    event = as_loaded(ClockEventRow, {"id": 1, "seq": 1, "kind": "request_correction"})
    set_committed_value(case, "clock_events", [event])
    assert case.clock_events == [event]
    assert case.clock_events[0].kind == "request_correction"
