"""The tamper-evident trail: every change appends an event hash-chained to the case's previous one.

hash = SHA-256 over the canonical JSON of the event's fields and the previous event's hash
(from scheme 4 on, RFC 8785's JSON Canonicalization Scheme; before, sorted keys, no spaces,
UTF-8). Event ``seq`` n is written by the change that brings the case to version n, so
removing the newest event is as visible as changing an old one. The case row keeps the
newest event's hash (``audit_head``, revision 0006): the next event chains to it without
reading the trail, and ``verify`` checks that it is the chain's end. Each event's
payload also carries a snapshot of the case row it produced and the clock event it added;
the registration event carries a fingerprint of the application. ``verify`` compares those
with the rows, so editing a case, an applicant or a clock event directly is detected too.

Schemes. What an event hashes and records has changed over time; every event stores the
``scheme`` it was written under and is verified by that scheme's rules, so upgrading never
raises false tamper alarms (issue #27):

* 1 (revision 0001): the clock-event record is ``kind, on, days, until``.
* 2 (0002–0004): the record adds ``party, fee_amount, fee_scale, fee_quantity``.
* 3 (0005 on): the record adds ``opinion``, and the hash covers ``scheme`` itself.
* 4: what is recorded is as in 3, but the canonical JSON that is hashed (the event and the
  application fingerprint) is RFC 8785's (``rfc8785.dumps``) instead of ``json.dumps`` with
  sorted keys, which is what Python happens to print, not a standard another program can
  reproduce. For this trail's data (ASCII keys, text, small integers) the two print the
  same bytes, but only JCS defines them: key order by UTF-16 code units, escapes, numbers.
  JCS has no ``default=str`` fallback, so dates and decimals are turned into text
  explicitly (``_plain``), and anything else that is not JSON is refused when written.
  Floats are refused too (amounts are recorded as text): JCS prints 1e16 as
  ``10000000000000000``, which Python reads back as an integer JCS refuses, so a float
  could make an event that its own hash cannot be recomputed for.

Editing the ``scheme`` column cannot weaken verification: from scheme 3 on it is hashed, so
changing it breaks the hash; an event below 3 is verified by the scheme its hash-covered
payload shows (the keys of its clock-event record), and a stored value that disagrees, or
an old scheme after a newer one in the same chain, is reported. A column a scheme did not
record must be empty in the row (it did not exist when the event was written), so fields
added later cannot be filled in unnoticed. Any change to what is hashed or recorded needs a
new scheme number here; since 0005 every event stores its scheme, so a new scheme needs a
migration only if it changes what older events must be read as (scheme 4 needed none).

* 5 (0011 on): the case snapshot adds ``registered_by``, ``is_demo``,
  ``limits_provisional``, ``reply_detail``, ``refer_to``, ``assignee``, ``duplicate_of``,
  ``agency_id``, ``archived_on``, ``retain_until`` and the SHA-256 of the stored draft; a letter's record adds ``issued_by``,
  ``issued_on`` and the SHA-256 of its stored context. What a chain's newest event of an
  older scheme did not snapshot stays unchecked until the case next changes.

Keys. Every event, whatever its scheme, carries an HMAC-SHA-256 of its hash under a key
kept outside the database (``disclosure.keys``; events older than 0011 were signed by that
revision): whoever can write the database but lacks the key cannot rewrite a chain
consistently or append an event that verifies. What the keys cannot show — a chain cut
back to an earlier, genuinely signed state, or a case deleted with all its rows — the
checkpoints (``services.checkpoints``) and the gapless 文号 show.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from disclosure import canonical
from disclosure.errors import ConflictError, NotFound
from disclosure.keys import AuditKeys, user_record
from disclosure.models.db import new_row
from disclosure.models.tables import (
    Agency,
    Applicant,
    AuditEvent,
    Case,
    ClockEventRow,
    Letter,
    LetterCounter,
    User,
)
from disclosure.workflow.limit_columns import LIMIT_COLUMNS
from disclosure.workflow.triggers import LETTER_TYPES

if TYPE_CHECKING:
    from disclosure.services.unit_of_work import App

GENESIS = "0" * 64
_BATCH = 500

#: The scheme new events are written under (see the module docstring).
SCHEME = 5
#: Clock-event record keys per scheme.
CLOCK_KEYS: dict[int, frozenset[str]] = {
    1: frozenset({"kind", "on", "days", "until"}),
    2: frozenset({"kind", "on", "days", "until", "party", "fee_amount", "fee_scale",
                  "fee_quantity"}),
    3: frozenset({"kind", "on", "days", "until", "party", "fee_amount", "fee_scale",
                  "fee_quantity", "opinion"}),
    4: frozenset({"kind", "on", "days", "until", "party", "fee_amount", "fee_scale",
                  "fee_quantity", "opinion"}),
    5: frozenset({"kind", "on", "days", "until", "party", "fee_amount", "fee_scale",
                  "fee_quantity", "opinion"}),
}  # fmt: skip
#: The first scheme whose hash covers the scheme number.
_HASHED_SCHEME = 3
#: The first scheme canonicalized by RFC 8785 (JCS).
_JCS_SCHEME = 4

#: Case columns every audit event snapshots (the row as that change left it).
_SNAPSHOT_BEFORE_5 = (
    "state", "outcome", "outcome_reason", "drafted_by", "approved_by", "closed_on",
    "last_action_on", *(limit.column for limit in LIMIT_COLUMNS),
)  # fmt: skip
#: From scheme 5 on every column that decides what the case is, shows or prints.
_SNAPSHOT_5 = (
    *_SNAPSHOT_BEFORE_5, "registered_by", "is_demo", "limits_provisional", "reply_detail",
    "refer_to", "assignee", "duplicate_of", "agency_id", "archived_on", "retain_until",
)  # fmt: skip
#: The first scheme with the wider snapshot and letter record, and the draft's hash.
_WIDE_SCHEME = 5
#: What a letter's record holds: before scheme 5, and from it on.
_LETTER_KEYS_BEFORE_5 = ("kind", "number", "sha256")
_LETTER_KEYS_5 = (*_LETTER_KEYS_BEFORE_5, "issued_by", "issued_on", "context_sha256")


def canonical_json(data: Any, scheme: int | None = None) -> str:
    """The canonical JSON text of ``data`` under ``scheme`` (default: ``SCHEME``).

    Raises:
        canonical.CanonicalizationError: from scheme 4 on, for a value JSON cannot hold
            exactly (a date, a decimal, an integer beyond 2**53, NaN); see ``_plain``.
    """
    if (SCHEME if scheme is None else scheme) >= _JCS_SCHEME:
        return canonical.dumps(data)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _plain(value: Any) -> Any:
    """``value`` with dates and decimals as the text ``default=str`` gave them before JCS.

    A ``datetime`` is a ``date`` too and gets ``str()``'s text, as before; other values are
    left for the canonicalizer, which refuses what JSON cannot hold.

    Raises:
        TypeError: ``value`` holds a float (see scheme 4 in the module docstring).
    """
    if isinstance(value, str | int) or value is None:  # most of a payload; asked first
        return value
    if isinstance(value, dict) or isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"the audit trail records no floats (got {value!r}); record it as text")
    return value


def utc_text(at: datetime) -> str:
    """A stored time as hashed and written out: UTC, microseconds, ``Z``."""
    # SQLite returns naive datetimes; every stored time is UTC.
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def case_snapshot(case: Case, scheme: int | None = None) -> dict[str, object]:
    """The case row as an event of ``scheme`` (default: ``SCHEME``) records it."""
    wide = (SCHEME if scheme is None else scheme) >= _WIDE_SCHEME
    snapshot = {
        column: _iso(getattr(case, column))
        for column in (_SNAPSHOT_5 if wide else _SNAPSHOT_BEFORE_5)
    }
    if wide:
        snapshot["draft_sha256"] = _sha256_or_none(case.draft_context)
    return snapshot


def _sha256_or_none(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def letter_record(letter: Letter, scheme: int | None = None) -> dict[str, object]:
    """What the event that issued ``letter`` records of it under ``scheme`` (default:
    ``SCHEME``)."""
    record: dict[str, object] = {
        "kind": letter.kind,
        "number": letter.number,
        "sha256": hashlib.sha256(letter.html.encode("utf-8")).hexdigest(),
    }
    if (SCHEME if scheme is None else scheme) >= _WIDE_SCHEME:
        record.update(
            issued_by=letter.issued_by,
            issued_on=letter.issued_on.isoformat(),
            context_sha256=_sha256_or_none(letter.context),
        )
    return record


def clock_event_record(row: ClockEventRow, scheme: int = SCHEME) -> dict[str, object]:
    """What the trail records of a clock event under ``scheme``."""
    full: dict[str, object] = {
        "kind": row.kind,
        "on": row.occurred_on.isoformat(),
        "days": row.days,
        "until": _iso(row.until),
        "party": row.party,
        "fee_amount": None if row.fee_amount is None else f"{row.fee_amount:.2f}",
        "fee_scale": row.fee_scale,
        "fee_quantity": row.fee_quantity,
        "opinion": row.opinion,
    }
    return {key: value for key, value in full.items() if key in CLOCK_KEYS[scheme]}


def _clock_matches(row: ClockEventRow, recorded: object, scheme: int) -> bool:
    """The row equals the record; a column the scheme did not record must be empty."""
    full = clock_event_record(row, max(CLOCK_KEYS))
    kept = CLOCK_KEYS[scheme]
    return recorded == {k: v for k, v in full.items() if k in kept} and all(
        full[k] is None for k in full if k not in kept
    )


def scheme_of_payload(payload: dict[str, Any]) -> int | None:
    """The pre-0005 scheme (1 or 2) an event's payload shows, or None if it shows none.

    Only the clock-event record differs between schemes 1 and 2.
    """
    record = payload.get("clock_event")
    if not isinstance(record, dict):
        return None
    for scheme in (1, 2):
        if set(record) == CLOCK_KEYS[scheme]:
            return scheme
    return 0  # neither: not a record any version of this code wrote


def application_fingerprint(case: Case, applicant: Applicant, scheme: int | None = None) -> str:
    """SHA-256 of what was registered; the trail keeps this, not the personal data itself.

    ``scheme`` (default: ``SCHEME``) is that of the registration event that records it.
    """
    fields = {
        "kind": applicant.kind, "name": applicant.name, "id_type": applicant.id_type,
        "id_number": applicant.id_number, "phone": applicant.phone, "email": applicant.email,
        "address": applicant.address, "postal_code": applicant.postal_code,
        "description": case.description, "delivery_form": case.delivery_form,
        "delivery_method": case.delivery_method, "channel": case.channel,
        "received_on": case.received_on.isoformat(),
    }  # fmt: skip
    return hashlib.sha256(canonical_json(fields, scheme).encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent, *, printed: bool = False) -> str:
    """SHA-256 of the event under its scheme (from scheme 3 on, the scheme is hashed too).

    ``printed``: the caller has just printed the payload as the scheme's canonical text
    (``new_event``), so the body takes that text as it is; otherwise (a stored event, as
    ``verify_case`` reads it) the payload is parsed and printed again.

    Raises:
        ValueError: the payload is not JSON, or (from scheme 4 on) holds a number JCS
            cannot print exactly; ``verify_case`` reports either as a changed event.
    """
    if event.scheme is None:
        raise ValueError("AuditEvent.scheme must be set before hashing (audit.SCHEME)")
    body: dict[str, object] = {
        "case_id": event.case_id,
        "seq": event.seq,
        "at": utc_text(event.at),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }
    if event.scheme >= _HASHED_SCHEME:
        body["scheme"] = event.scheme
    if printed and event.scheme >= _JCS_SCHEME:
        text = canonical.dumps_with(body, "payload", event.payload)
    else:
        body["payload"] = json.loads(event.payload)
        text = canonical_json(body, event.scheme)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_holds(event: AuditEvent) -> bool:
    """Whether the event's stored hash is the hash of its fields under its scheme (a payload
    that is no longer JSON, or not JCS-printable, does not hold)."""
    try:
        return event_hash(event) == event.hash
    except ValueError:
        return False


def new_event(
    case: Case,
    *,
    keys: AuditKeys,
    seq: int,
    at: datetime,
    actor: str,
    actor_role: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    reason: str,
    payload: dict[str, Any],
) -> AuditEvent:
    """Event ``seq`` (= the case version this change produces), hashed; nothing is written.

    Call it after the case row holds its new values: the payload snapshots them. The event
    chains to ``case.audit_head`` (the hash of event ``seq - 1``, loaded with the row and
    guarded by the same optimistic lock). The caller writes the event and the case row with
    ``audit_head`` set to the event's hash in one transaction, as ``append_event`` does.

    Raises:
        ConflictError: the case has no chain head to extend (its trail is broken).
    """
    prev_hash = GENESIS
    if seq > 1:
        if case.audit_head is None:  # never extend a chain that is already broken
            raise ConflictError(
                f"案件{case.id}的轨迹缺少第{seq - 1}条事件，已拒绝写入；请运行 disclosure audit verify"
            )
        prev_hash = case.audit_head
    event = new_row(
        AuditEvent,
        case_id=case.id,
        seq=seq,
        at=at.astimezone(UTC),
        actor=actor,
        actor_role=actor_role,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        prev_hash=prev_hash,
        scheme=SCHEME,
    )
    event.payload = canonical_json(_plain({**payload, "case": case_snapshot(case)}), SCHEME)
    event.hash = event_hash(event, printed=True)  # the payload is not parsed back
    event.key_id, event.mac = keys.sign(event.hash)
    return event


def append_event(session: Session, case: Case, **fields: Any) -> AuditEvent:
    """``new_event(case, **fields)`` added to the session, and made the case's chain head;
    the caller commits."""
    event = new_event(case, **fields)
    case.audit_head = event.hash
    session.add(event)
    return event


def _user_text(user: User) -> str:
    return user_record(user.name, user.role, user.all_agencies, [a.id for a in user.agencies])


def seal_user(user: User, keys: AuditKeys) -> None:
    """Sign what ``user`` may do; call it whenever the role or the agencies change."""
    user.key_id, user.mac = keys.sign(_user_text(user))


@dataclass(frozen=True)
class ChainBreak:
    """The first event of a case whose chain does not hold, and why; or (``case_id`` None)
    a finding about the whole trail: a 文号 gap, a user, a checkpoint."""

    case_id: int | None
    seq: int | None
    problem: str

    @property
    def where(self) -> str:
        """Where the break is, in Chinese: ``案件12 第3条事件`` or ``全库``."""
        if self.case_id is None:
            return "全库"
        return f"案件{self.case_id}" + (f" 第{self.seq}条事件" if self.seq is not None else "")


def verify_case(
    case: Case,
    events: Sequence[AuditEvent],
    clock_rows: Sequence[ClockEventRow],
    letters: Sequence[Letter],
    keys: AuditKeys,
) -> ChainBreak | None:
    """Check one case's chain, its signatures, and compare it with the rows it describes."""
    prev = GENESIS
    recorded_clock: list[tuple[int, object]] = []
    recorded_letters: list[tuple[int, int, object]] = []
    #: The latest record of each letter by 文号: an anonymisation re-records the redacted.
    redacted: dict[str, tuple[int, object]] = {}
    fingerprint_event = events[0] if events else None
    newest_scheme = 0
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainBreak(case.id, expected_seq, f"第{expected_seq}条事件缺失（序号不连续）")
        if event.prev_hash != prev:
            return ChainBreak(case.id, event.seq, "前序哈希不符：此前的事件被删除或改动")
        if event.scheme not in CLOCK_KEYS:
            return ChainBreak(case.id, event.seq, f"未知的记录方案 {event.scheme}：事件被改动")
        if not hash_holds(event):
            return ChainBreak(case.id, event.seq, "内容哈希不符：事件在写入后被改动")
        unsigned = keys.check(event.key_id, event.hash, event.mac)
        if unsigned is not None:
            return ChainBreak(
                case.id, event.seq,
                f"事件{unsigned}：不是本系统写入的事件，或整条轨迹被重新计算改写",
            )  # fmt: skip
        payload = json.loads(event.payload)
        scheme = event.scheme
        if scheme < _HASHED_SCHEME:  # the column is not hashed: trust the hashed payload
            shown = scheme_of_payload(payload)
            if shown is not None and shown != scheme:
                return ChainBreak(
                    case.id, event.seq, "记录方案与事件内容不符：事件的记录方案被改动"
                )
        if scheme < newest_scheme:
            return ChainBreak(case.id, event.seq, "记录方案早于此前的事件：事件的记录方案被改动")
        newest_scheme = scheme
        if "clock_event" in payload:
            recorded_clock.append((scheme, payload["clock_event"]))
        if event.trigger == "anonymise":
            redacted.update((x.get("number"), (scheme, x)) for x in payload.get("letters", []))
        else:
            recorded_letters.extend((scheme, event.seq, x) for x in payload.get("letters", []))
        if "application_sha256" in payload:
            fingerprint_event = event
        prev = event.hash
    if len(events) != case.version:
        return ChainBreak(
            case.id,
            min(len(events), case.version) + 1,
            f"案件版本为{case.version}而轨迹有{len(events)}条：事件被删除或版本被改动",
        )
    if not events:
        return ChainBreak(case.id, 1, "案件没有任何轨迹事件")
    if case.audit_head != events[-1].hash:
        return ChainBreak(
            case.id,
            events[-1].seq,
            "案件记载的轨迹末条哈希与最后一条事件不符：末尾的事件被删除或案件被改动",
        )
    assert fingerprint_event is not None  # events is not empty here
    recorded = json.loads(fingerprint_event.payload)
    fingerprint = application_fingerprint(case, case.applicant, fingerprint_event.scheme)
    if recorded.get("application_sha256") != fingerprint:
        return ChainBreak(
            case.id, fingerprint_event.seq,
            "申请登记内容（申请人或申请事项）与轨迹记载的指纹不符：登记信息被改动",
        )  # fmt: skip
    if len(clock_rows) != len(recorded_clock) or not all(
        _clock_matches(row, recorded, scheme)
        for row, (scheme, recorded) in zip(clock_rows, recorded_clock, strict=False)
    ):
        return ChainBreak(case.id, events[-1].seq, "计时事件与轨迹记载不符：期限依据被改动")
    if len(letters) != len(recorded_letters):
        return ChainBreak(
            case.id, events[-1].seq,
            f"轨迹记载{len(recorded_letters)}份文书而库中有{len(letters)}份：文书被删除或添加",
        )  # fmt: skip
    for letter, (scheme, seq, recorded) in zip(letters, recorded_letters, strict=True):
        scheme, recorded = redacted.get(letter.number, (scheme, recorded))
        changed = _differences(letter_record(letter, scheme), recorded)
        if letter.audit_seq != seq:
            changed.append("audit_seq")
        if changed:
            return ChainBreak(
                case.id, seq,
                f"文书{letter.number}与轨迹记载不符（{'、'.join(changed)}）：文书被改动",
            )  # fmt: skip
    recorded_case = json.loads(events[-1].payload).get("case")
    changed = _differences(case_snapshot(case, events[-1].scheme), recorded_case)
    if changed:
        return ChainBreak(
            case.id, events[-1].seq,
            f"案件当前记录与最后一条轨迹不符（{'、'.join(changed)}）：案件被绕过流程修改",
        )  # fmt: skip
    return None


def _differences(actual: Mapping[str, object], recorded: object) -> list[str]:
    """The keys whose values differ (every key if ``recorded`` is no mapping)."""
    if not isinstance(recorded, Mapping):
        return sorted(actual)
    return sorted(k for k in actual.keys() | recorded.keys() if actual.get(k) != recorded.get(k))


def _case_batches(
    session: Session, case_id: int | None, agency_id: int | None = None
) -> Iterator[list[Case]]:
    query = select(Case).order_by(Case.id)
    if case_id is not None:
        query = query.where(Case.id == case_id)
    if agency_id is not None:
        query = query.where(Case.agency_id == agency_id)
    batch: list[Case] = []
    for case in session.scalars(query.execution_options(yield_per=_BATCH)):
        batch.append(case)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def verify(
    session: Session,
    case_id: int | None = None,
    agency_id: int | None = None,
    *,
    keys: AuditKeys,
) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain (or one case's); return how many cases were checked and the breaks.

    Without ``case_id`` it also checks what no single chain shows: that the 文号 of the
    agency (or of every agency) have no gaps, that every user's role and agencies are as
    signed, and (for the whole database) that every checkpoint still holds.

    Reads in batches, so memory stays flat however many cases there are. Run it inside one
    snapshot (``verify_snapshot``) so that writes committed meanwhile do not look like tampering.
    """
    checked, breaks = 0, []
    for batch in _case_batches(session, case_id, agency_id):
        ids = [case.id for case in batch]
        events: dict[int, list[AuditEvent]] = {i: [] for i in ids}
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.case_id.in_(ids)).order_by(AuditEvent.seq)
        ):
            events[event.case_id].append(event)
        clock: dict[int, list[ClockEventRow]] = {i: [] for i in ids}
        for row in session.scalars(
            select(ClockEventRow).where(ClockEventRow.case_id.in_(ids)).order_by(ClockEventRow.seq)
        ):
            clock[row.case_id].append(row)
        letters: dict[int, list[Letter]] = {i: [] for i in ids}
        for letter in session.scalars(
            select(Letter).where(Letter.case_id.in_(ids)).order_by(Letter.id)
        ):
            letters[letter.case_id].append(letter)
        for case in batch:
            checked += 1
            problem = verify_case(case, events[case.id], clock[case.id], letters[case.id], keys)
            if problem is not None:
                breaks.append(problem)
    if case_id is None:
        breaks += numbering_gaps(session, agency_id)
        breaks += user_seal_breaks(session, keys)
        if agency_id is None:
            from disclosure.services.checkpoints import checkpoint_breaks

            breaks += checkpoint_breaks(session, keys)
    return checked, breaks


def numbering_gaps(session: Session, agency_id: int | None = None) -> list[ChainBreak]:
    """文号 missing from, or beyond, each (agency, kind, year) counter's 1…last number.

    Numbers are taken in the issuing transaction, so a rollback gives one back: a gap means
    a letter (or its whole case, whose 登记回执 is numbered too) was deleted. One grouped
    count finds the series to look at; only those are read number by number.
    """
    series = (
        select(Case.agency_id, Letter.kind, Letter.year, func.count(), func.max(Letter.seq_no))
        .join(Case, Case.id == Letter.case_id)
        .group_by(Case.agency_id, Letter.kind, Letter.year)
    )
    counters = select(LetterCounter)
    if agency_id is not None:
        series = series.where(Case.agency_id == agency_id)
        counters = counters.where(LetterCounter.agency_id == agency_id)
    found = {(a, k, y): (n, top) for a, k, y, n, top in session.execute(series)}
    last = {(c.agency_id, c.kind, c.year): c.last_no for c in session.scalars(counters)}
    names = {agency_id: name for agency_id, name in session.execute(select(Agency.id, Agency.name))}
    breaks = []
    for key in sorted(found.keys() | last.keys()):
        count, top = found.get(key, (0, 0))
        last_no = last.get(key, 0)
        if count == top == last_no:
            continue
        agency, kind, year = key
        numbers = set(
            session.scalars(
                select(Letter.seq_no)
                .join(Case, Case.id == Letter.case_id)
                .where(Case.agency_id == agency, Letter.kind == kind, Letter.year == year)
            )
        )
        title, agency_name = _kind_title(kind), names.get(agency, f"（编号{agency}）")
        missing = sorted(set(range(1, last_no + 1)) - numbers)
        beyond = sorted(n for n in numbers if n > last_no)
        if missing:
            shown = "、".join(str(n) for n in missing[:10]) + ("等" if len(missing) > 10 else "")
            breaks.append(ChainBreak(None, None, (
                f"{agency_name}{year}年{title}文号第{shown}号缺失（计数器已到{last_no}号）："
                "文书或其所在案件被删除"
            )))  # fmt: skip
        if beyond:
            breaks.append(ChainBreak(None, None, (
                f"{agency_name}{year}年{title}文号第{beyond[0]}号超出计数器（{last_no}号）："
                "计数器被改动，或其后的文书被删除"
            )))  # fmt: skip
    return breaks


def _kind_title(kind: str) -> str:
    return LETTER_TYPES[kind].title if kind in LETTER_TYPES else kind


def user_seal_breaks(session: Session, keys: AuditKeys) -> list[ChainBreak]:
    """Users whose role or agencies are not what the system signed."""
    breaks = []
    for user in session.execute(select(User).order_by(User.id)).unique().scalars():
        problem = keys.check(user.key_id, _user_text(user), user.mac)
        if problem is not None:
            breaks.append(ChainBreak(None, None, (
                f"用户{user.name}（现为{user.role}）的角色或所属机关{problem}："
                "用户表被绕过系统修改"
            )))  # fmt: skip
    return breaks


def verify_snapshot(
    engine: Engine,
    case_id: int | None = None,
    agency_id: int | None = None,
    *,
    keys: AuditKeys | None = None,
) -> tuple[int, list[ChainBreak]]:
    """``verify`` inside one read snapshot (REPEATABLE READ on PostgreSQL, a read
    transaction on SQLite), safe to run while clerks keep working. ``keys`` default to the
    environment's (``Settings.from_env()``)."""
    if keys is None:
        from disclosure.config import Settings

        keys = Settings.from_env().audit_keys
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            conn.exec_driver_sql("BEGIN")  # pysqlite would run each SELECT on its own
        with Session(bind=conn) as session:
            return verify(session, case_id, agency_id, keys=keys)


def verify_trail(
    app: App, case_id: int | None = None, agency: str | None = None
) -> tuple[int, list[ChainBreak]]:
    """``verify_snapshot`` on the app's database, of one case or one agency's cases; an
    unknown case or agency is an error."""
    agency_id = None
    if agency is not None:
        from disclosure.services.agencies import get_agency

        agency_id = get_agency(app, agency).id
    checked, breaks = verify_snapshot(app.engine, case_id, agency_id, keys=app.settings.audit_keys)
    if case_id is not None and checked == 0:
        raise NotFound("case", f"案件{case_id}不存在")
    return checked, breaks
