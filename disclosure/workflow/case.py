"""The values the workflow reads and returns: who acts, what is known of a case, the command
given and the step that results. Plain frozen data, no behaviour beyond derived views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from disclosure.workflow.deadlines import ClockEvent, ClockKind, Limits
from disclosure.workflow.fees import Fee
from disclosure.workflow.inputs import TriggerInput
from disclosure.workflow.letters import LetterType
from disclosure.workflow.states import Role, State


@dataclass(frozen=True)
class Actor:
    """Who fires a trigger."""

    name: str
    role: Role


@dataclass(frozen=True)
class CaseFacts:
    """What the workflow needs to know about a case: state and history, nothing else.

    Attributes:
        third_party_opinion: the last consulted third party's answer (Art. 32), if any.
        month_rank: the application's rank among the applicant's applications in its month;
            filled only for triggers that declare they need it (a fee by count).
    """

    state: State
    received_on: date
    events: tuple[ClockEvent, ...] = ()
    drafted_by: str | None = None
    outcome: str | None = None
    outcome_reason: str | None = None
    last_action_on: date | None = None
    approved_by: str | None = None
    reply_detail: str | None = None
    refer_to: str | None = None
    third_party_opinion: str | None = None
    month_rank: int | None = None

    @property
    def last_date(self) -> date:
        """The latest business date in the history: no action may be dated before it."""
        dates = [self.received_on, *(e.on for e in self.events[-1:])]
        if self.last_action_on is not None:
            dates.append(self.last_action_on)
        return max(dates)

    def has(self, kind: ClockKind) -> bool:
        return any(e.kind is kind for e in self.events)


@dataclass(frozen=True)
class Command:
    """A trigger's input as a clerk or supervisor gives it, with who and on which date.

    Attributes:
        today: the agency's today: bounds how far back ``on`` may lie (None: not checked).
    """

    input: TriggerInput
    actor: Actor
    on: date
    today: date | None = None

    @property
    def trigger(self) -> str:
        return self.input.trigger

    @property
    def note(self) -> str:
        return self.input.reason


@dataclass(frozen=True)
class ClockRecord:
    """What is kept with a clock event besides its dates: the note, the party, the answer."""

    note: str
    party: str | None = None
    opinion: str | None = None


@dataclass(frozen=True)
class Step:
    """The result of a successful trigger: everything to write, in one transaction.

    Attributes:
        letters: the letters the step issues, in order.
        draft: a letter to render now and keep for approval (the reply draft).
        fee: the fee assessed, for a fee notice.
        details: what the audit trail records besides state and limits.
    """

    trigger: str
    before: State
    after: State
    facts: CaseFacts
    limits: Limits
    clock_event: ClockEvent | None = None
    details: dict[str, Any] = field(default_factory=dict)
    clock_record: ClockRecord | None = None
    letters: tuple[LetterType, ...] = ()
    draft: LetterType | None = None
    fee: Fee | None = None
