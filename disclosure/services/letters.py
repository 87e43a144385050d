"""Issuing letters inside the trigger's transaction, and reading them back for printing.

A letter is rendered once, when issued, from the case as it then stands; the HTML, its
SHA-256 and the context are stored, and every later print (HTML, PDF, DOCX) is made from
that stored HTML — the same text years later, whatever happened to templates or settings.

A reply is first rendered by ``preview`` when it is drafted (no 文号 is taken); the
supervisor approves that text, and ``prepare(context=...)`` sends exactly it, with only the
文号 and the date of issue filled in.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Integer,
    ScalarSelect,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from disclosure.config import Settings
from disclosure.errors import NotFound, RuleViolation
from disclosure.letters import FORMATS
from disclosure.letters.render import render_html
from disclosure.models.db import new_row
from disclosure.models.tables import Applicant, Case, ClockEventRow, Letter, LetterCounter
from disclosure.services.agencies import profile
from disclosure.services.unit_of_work import App
from disclosure.workflow.agency import AgencyProfile
from disclosure.workflow.application import (
    CHANNEL_RULES,
    ID_TYPE_LABELS,
    Channel,
    IdType,
    mask_id,
)
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.deadlines import Limit, Limits
from disclosure.workflow.fees import FEE_SCALE_LABELS, Fee
from disclosure.workflow.letters import (
    BASES,
    REPLY_DECISIONS,
    REPLY_FINDINGS,
    REPLY_TITLES,
    WITHHOLD_PHRASES,
    LetterKind,
)
from disclosure.workflow.states import OUTCOMES, parse_state
from disclosure.workflow.text import printable
from disclosure.workflow.triggers import LETTER_TYPES


@dataclass(frozen=True)
class LetterInput:
    """What a clerk supplies for the letters a trigger issues.

    ``extra`` holds every trigger-specific field: a letter type a trigger declares of its own
    prints them as ``input.<field>`` without any code here.
    """

    items: Sequence[str] = ()
    party: str | None = None
    public_interest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, fields: dict[str, Any]) -> LetterInput:
        """From a trigger input's ``letter_fields()``."""
        return cls(
            items=tuple(fields.get("items") or ()),
            party=fields.get("party"),
            public_interest=fields.get("public_interest"),
            extra=fields,
        )


#: Printed in a preview where the 文号 will stand once the letter is issued.
NUMBER_PLACEHOLDER = "（发文时编号）"


def _number(
    settings: Settings, agency: AgencyProfile, kind: str, year: int, seq_no: int
) -> tuple[str, str]:
    """The prefix and the 文号: ``示审依申答〔2026〕12号`` (GB/T 9704: no 第, no leading zeros),
    or ``示审依申答〔2026〕第12号`` where the agency prints 第 by local custom."""
    prefix = f"{agency.number_prefix}{LETTER_TYPES[kind].code}"
    di = "第" if settings.number_with_di else ""
    return prefix, f"{prefix}〔{year}〕{di}{seq_no}号"


#: Brackets a clerk may type around the year, all read as the 六角括号 of GB/T 9704.
_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "(": "〔", ")": "〕", "【": "〔", "】": "〕",
                           "［": "〔", "］": "〕", "（": "〔", "）": "〕", "〖": "〔", "〗": "〕"})  # fmt: skip
_NUMBER = re.compile(r"〔(\d{4})〕第?0*(\d+)号$")


def normalise_number(text: str) -> str:
    """A 文号 as typed, in one canonical form for comparison: full-width digits and brackets
    (NFKC), any of ``[] () 【】 〔〕`` around the year, spaces, a 第 before the sequence
    number and leading zeros all read alike. ``示审依申答【２０２６】第012号`` and the stored
    ``示审依申答〔2026〕12号`` (or ``…〔2026〕第12号``, as issued before 第 was dropped) match."""
    text = "".join(unicodedata.normalize("NFKC", text).split()).translate(_BRACKETS)
    return _NUMBER.sub(lambda m: f"〔{m.group(1)}〕{m.group(2)}号", text)


def allocate_number(connection: Connection, agency_id: int, year: int, kind: str) -> int:
    """The next 文号 number, taken in the caller's transaction (a rollback gives it back).

    One upsert: the first number of a (agency, year, kind) creates its counter row, every
    later one increments it. The row's lock is held until commit, so concurrent issuers of
    one kind queue.
    """
    params = {"agency_id": agency_id, "year": year, "kind": str(kind)}
    seq_no = connection.execute(_next_number(connection.dialect.name), params).scalar_one()
    return int(seq_no)


_COUNTER = cast(Table, LetterCounter.__table__)
_COUNTER_KEY = ("agency_id", "year", "kind")


@functools.cache
def _next_number(dialect: str) -> Insert:
    """``allocate_number``'s upsert for a dialect, built once (building it cost as much as
    running it)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {**{name: bindparam(name) for name in _COUNTER_KEY}, "last_no": 1}
    return _counted(insert(_COUNTER).values(values))


def _counted(insert: PgInsert | SqliteInsert) -> Insert:
    """``insert`` of a counter row at 1, or else its increment; the number taken returned."""
    return insert.on_conflict_do_update(
        index_elements=[_COUNTER.c[name] for name in _COUNTER_KEY],
        set_={"last_no": _COUNTER.c.last_no + 1},
    ).returning(_COUNTER.c.last_no)


def taken_number(n: int) -> ScalarSelect[Any]:
    """The next 文号 number of letter kind ``kind_<n>`` in ``year`` for the agency of case
    ``case_id``, taken as ``allocate_number`` takes it, by the statement this column is part
    of (PostgreSQL: a data-modifying CTE; ``cases._load`` reads the case with it, one round
    trip fewer for a change that issues a letter)."""
    agency_year_kind = select(
        Case.agency_id, bindparam("year", type_=Integer), bindparam(f"kind_{n}", type_=String),
        literal(1, Integer),
    ).where(Case.id == bindparam("case_id"))  # fmt: skip
    taking = _counted(pg_insert(_COUNTER).from_select([*_COUNTER_KEY, "last_no"], agency_year_kind))
    return select(taking.cte(f"taken_{n}").c.last_no).scalar_subquery()


def counted_number(n: int) -> ColumnElement[Any]:
    """The 文号 number letter kind ``kind_<n>`` in ``year`` would take next for the agency of
    the case the statement reads (a correlated column of ``cases._load``), as its counter
    stands: read, not taken. The change claims it when it writes (``claimed_counter``); if
    another change took it meanwhile, nothing is written."""
    last = (
        select(_COUNTER.c.last_no)
        .where(
            _COUNTER.c.agency_id == Case.agency_id,
            _COUNTER.c.year == bindparam("year", type_=Integer),
            _COUNTER.c.kind == bindparam(f"kind_{n}", type_=String),
        )
        .scalar_subquery()
    )
    return func.coalesce(last, 0) + 1


def claimed_counter(agency_id: int, letter: Letter) -> LetterCounter:
    """The counter row as ``letter``'s number leaves it, for the write that claims the number
    (``models.db.insert_rows_then_update``'s ``counted``)."""
    return new_row(
        LetterCounter, agency_id=agency_id, year=letter.year, kind=letter.kind,
        last_no=letter.seq_no,
    )  # fmt: skip


def _present(**values: Any) -> dict[str, Any]:
    """Drop missing values: the strict template then names the field instead of printing blank."""
    return {k: v for k, v in values.items() if v is not None and v != "" and v != []}


def _limit_due(limit: Limit | None) -> str | None:
    return cn_date(limit.due) if limit is not None else None


def due_sentence(limit: Limit) -> str:
    """How a due date was computed, as a clause of a letter: the limit's explanation
    (``自2026年11月2日起算20个工作日；延长10个工作日 → 2026年12月14日``, built for screens)
    becomes ``答复期限自2026年11月2日起算20个工作日，延长10个工作日，至2026年12月14日届满``."""
    steps = limit.explanation.split("→")[0].strip().rstrip("；;，,")
    steps = "，".join(part.strip() for part in re.split(r"[；;]", steps) if part.strip())
    label = limit.label
    return (
        f"{label}{steps}，至{cn_date(limit.due)}届满"
        if steps
        else f"{label}至{cn_date(limit.due)}届满"
    )


def _clause(text: str | None) -> str | None:
    """A clerk's text used inside a sentence: trimmed, without a closing full stop."""
    if text is None:
        return None
    return text.strip().rstrip("。.；;，,").strip() or None


def _sentence(text: str | None) -> str | None:
    """A clerk's text used as sentences of its own: ends with a full stop."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    return text if text[-1] in "。！？”’）)」』" else f"{text}。"


def base_context(
    settings: Settings, case: Case, applicant: Applicant, limits: Limits
) -> dict[str, Any]:
    reply = limits.reply
    agency = profile(case.agency)
    return {
        "agency": _present(
            name=agency.name, address=agency.address, contact=agency.contact,
            phone=agency.phone, reconsideration_body=agency.reconsideration_body,
            court=agency.court,
        ),
        "applicant": _present(
            name=applicant.name, id_masked=mask_id(applicant.id_number),
            id_type=ID_TYPE_LABELS[IdType(applicant.id_type)],
        ),
        "case": _present(
            id=case.id, received_on=cn_date(case.received_on), description=case.description,
            channel_name=CHANNEL_RULES[Channel(case.channel)][0],
            channel_rule=CHANNEL_RULES[Channel(case.channel)][1],
            reply_due=_limit_due(reply), reply_due_note=due_sentence(reply) if reply else None,
            provisional=bool(reply and reply.provisional),
        ),
    }  # fmt: skip


@dataclass(frozen=True)
class _Given:
    """What a letter's kind-specific context is built from."""

    case: Case
    limits: Limits
    before: Limits
    letter_input: LetterInput
    note: str
    fee: Fee | None
    settings: Settings
    extension_days: int | None


def _correction(g: _Given) -> dict[str, Any]:
    return {"correction": _present(
        points=[i for i in g.letter_input.items if i.strip()],
        period_due=_limit_due(g.limits.correction_period),
        period_days=g.settings.rules.correction_period_days,
    )}  # fmt: skip


def _extension(g: _Given) -> dict[str, Any]:
    return {"extension": _present(
        old_due=_limit_due(g.before.reply), new_due=_limit_due(g.limits.reply),
        reason=_clause(g.note), days=g.extension_days,
    )}  # fmt: skip


def _agreed_due(g: _Given) -> dict[str, Any]:
    # Art. 35: a reasonable later date, fixed by the agency and told to the applicant.
    return {"agreed": _present(
        old_due=_limit_due(g.before.reply), new_due=_limit_due(g.limits.reply),
        reason=_clause(g.note), consent=_clause(g.letter_input.extra.get("consent")),
    )}  # fmt: skip


def _consultation(g: _Given, window: Limit | None) -> dict[str, Any]:
    return {"consultation": _present(
        party=g.letter_input.party, window_due=_limit_due(window),
        days=g.settings.rules.consultation_days,
    )}  # fmt: skip


def _decision(g: _Given) -> dict[str, Any]:
    return {"decision": _present(
        party=g.letter_input.party, public_interest=g.letter_input.public_interest,
    )}  # fmt: skip


def _fee_context(g: _Given) -> dict[str, Any]:
    fee = g.fee
    assert fee is not None
    return {"fee": _present(
        scale=FEE_SCALE_LABELS[fee.scale], basis=fee.basis, lines=list(fee.lines),
        amount=f"{fee.amount:.2f}", pay_due=_limit_due(g.limits.fee),
        payment=profile(g.case.agency).fee_payment,
    )}  # fmt: skip


def _basis(case: Case) -> tuple[str, str]:
    outcome, reason = case.outcome or "", case.outcome_reason or ""
    if (outcome, reason) not in BASES:
        raise _no_outcome()
    return outcome, reason


def _reply(g: _Given) -> dict[str, Any]:
    outcome, reason = _basis(g.case)
    basis = BASES[(outcome, reason)]
    return {"reply": _present(
        outcome=outcome, code=reason, reason=OUTCOMES[outcome].reasons[reason],
        finding=REPLY_FINDINGS.get((outcome, reason)),
        decision=REPLY_DECISIONS.get((outcome, reason)),
        article=basis.article, basis=basis.text,
        detail=_sentence(g.case.reply_detail), refer_to=_clause(g.case.refer_to),
        phrase=WITHHOLD_PHRASES.get(reason),
    )}  # fmt: skip


def _closing(g: _Given) -> dict[str, Any]:
    outcome, reason = _basis(g.case)
    basis = BASES[(outcome, reason)]
    article = basis.article
    if not article.startswith("《"):
        article = f"《中华人民共和国政府信息公开条例》{article}"
    return {"closing": _present(
        reason=OUTCOMES[outcome].reasons[reason], article=article, basis=basis.text,
    )}  # fmt: skip


#: The kind-specific part of each core letter's context. A letter type declared by a trigger
#: of its own gets its trigger's fields as ``input`` instead.
_KIND_CONTEXT: dict[str, Callable[[_Given], dict[str, Any]]] = {
    LetterKind.RECEIPT: lambda g: {},
    LetterKind.CORRECTION: _correction,
    LetterKind.EXTENSION: _extension,
    LetterKind.AGREED_DUE: _agreed_due,
    LetterKind.THIRD_PARTY: lambda g: _consultation(g, g.limits.third_party),
    LetterKind.AGENCY_CONSULT: lambda g: _consultation(g, g.limits.agency),
    LetterKind.THIRD_PARTY_DECISION: _decision,
    LetterKind.FEE: _fee_context,
    LetterKind.REPLY: _reply,
    LetterKind.CLOSING: _closing,
}


def _trigger_fields(g: _Given) -> dict[str, Any]:
    return {"input": _present(**g.letter_input.extra)}


def kind_context(
    kind: str,
    case: Case,
    limits: Limits,
    before: Limits,
    letter_input: LetterInput,
    note: str,
    fee: Fee | None,
    settings: Settings,
    extension_days: int | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """Title, template and the kind-specific part of the context."""
    title, template = _title_and_template(kind, case)
    given = _Given(case, limits, before, letter_input, note, fee, settings, extension_days)
    return title, template, _KIND_CONTEXT.get(kind, _trigger_fields)(given)


def _no_outcome() -> RuleViolation:
    return RuleViolation(
        "outcome", "required", "案件尚未拟定答复结果和理由，不能生成答复书；未生成文书"
    )


def _title_and_template(kind: str, case: Case) -> tuple[str, str]:
    info = LETTER_TYPES[kind]
    if kind == LetterKind.REPLY:
        outcome = case.outcome or ""
        if outcome not in REPLY_TITLES:
            raise _no_outcome()
        return REPLY_TITLES[outcome], info.template.format(outcome=outcome)
    return info.title, info.template


@dataclass(frozen=True)
class LetterRequest:
    """What a letter is rendered from besides the case: the limits after and before the
    step, the date of issue and what the clerk supplied (``preview`` and ``prepare`` alike)."""

    limits: Limits
    before: Limits
    issued_on: date
    letter_input: LetterInput = field(default_factory=lambda: LetterInput())
    note: str = ""
    fee: Fee | None = None
    extension_days: int | None = None


def _context(
    settings: Settings, case: Case, kind: str, request: LetterRequest
) -> tuple[str, str, dict[str, Any]]:
    r = request
    title, template, specific = kind_context(
        kind, case, r.limits, r.before, r.letter_input, r.note, r.fee, settings, r.extension_days
    )
    return title, template, base_context(settings, case, case.applicant, r.limits) | specific


def _template_dir(settings: Settings, case: Case) -> Path | None:
    """The agency's own template folder, else the installation's."""
    own = case.agency.template_dir
    return Path(own) if own else settings.template_dir


def _letter_block(kind: str, title: str, number: str, issued_on: date) -> dict[str, str]:
    return {"kind": str(kind), "title": title, "number": number, "issued_on": cn_date(issued_on)}


def preview(
    settings: Settings, case: Case, kind: str, request: LetterRequest
) -> tuple[str, dict[str, Any]]:
    """The letter as ``prepare`` would print it, without taking a 文号 or recording anything.

    The 文号 reads ``NUMBER_PLACEHOLDER``. Store the returned context and pass it to
    ``prepare(context=...)`` so that the letter sent is exactly the one approved.

    Returns:
        (html, context).

    Raises:
        RuleViolation: as ``prepare`` does, when the case lacks a field the letter prints.
    """
    title, template, context = _context(settings, case, kind, request)
    context["letter"] = _letter_block(kind, title, NUMBER_PLACEHOLDER, request.issued_on)
    return render_html(template, context, _template_dir(settings, case)), context


def prepare(
    connection: Connection,
    settings: Settings,
    case: Case,
    kind: str,
    request: LetterRequest,
    *,
    issued_by: str,
    audit_seq: int,
    at: Any,
    context: dict[str, Any] | None = None,
    seq_no: int | None = None,
) -> Letter:
    """Render and number one letter in the caller's transaction; the caller INSERTs its row
    (``insert_row``; a change writes it with its other rows in one statement where it can).

    Args:
        seq_no: its number, if the caller took or read it already (``taken_number``,
            ``counted_number``).
        context: a context stored from ``preview`` (the approved draft): the letter is
            rendered from it, with only its ``letter`` block (kind, title, 文号, date)
            replaced, instead of being rebuilt from the case.
    """
    if context is None:
        title, template, context = _context(settings, case, kind, request)
    else:
        title, template = _title_and_template(kind, case)
        context = json.loads(json.dumps(context, ensure_ascii=False))  # a copy, JSON-safe
    agency = profile(case.agency)
    prefix, _ = _number(settings, agency, kind, request.issued_on.year, 0)
    if seq_no is None:
        seq_no = allocate_number(connection, case.agency_id, request.issued_on.year, kind)
    _, number = _number(settings, agency, kind, request.issued_on.year, seq_no)
    context["letter"] = _letter_block(kind, title, number, request.issued_on)
    html = render_html(template, context, _template_dir(settings, case))
    letter = new_row(
        Letter, case_id=case.id, kind=str(kind), template=template, prefix=prefix,
        year=request.issued_on.year, seq_no=seq_no, number=number,
        issued_on=request.issued_on, issued_at=at,
        issued_by=issued_by, audit_seq=audit_seq,
        content_sha256=hashlib.sha256(html.encode("utf-8")).hexdigest(),
        context=json.dumps(context, ensure_ascii=False, sort_keys=True), html=html,
    )  # fmt: skip
    return letter


def last_party(case: Case, kind: str) -> str | None:
    rows: list[ClockEventRow] = [e for e in case.clock_events if e.kind == kind and e.party]
    return rows[-1].party if rows else None


# -- reading -----------------------------------------------------------------------------


def list_letters(session: Session, case_id: int) -> list[Letter]:
    if session.get(Case, case_id) is None:
        raise NotFound("case", f"案件{case_id}不存在")
    return list(
        session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id))
    )


def letters_in_state(session: Session, state: str, kind: str | None = None) -> list[Letter]:
    """Every letter (or every letter of one kind) of the cases now in ``state``."""
    query = (
        select(Letter)
        .join(Case, Case.id == Letter.case_id)
        .where(Case.state == state)
        .order_by(Letter.case_id, Letter.id)
    )
    if kind is not None:
        query = query.where(Letter.kind == kind)
    return list(session.scalars(query))


def find_letter(session: Session, case_id: int, kind: str) -> Letter:
    """The latest letter of a kind (by its code or Chinese title) or with that 文号 on a case.

    A 文号 is compared after ``normalise_number``: brackets, full-width digits and 第 as a
    clerk may type them, and letters stored with 第 before it was dropped, all match.
    """
    letters = list_letters(session, case_id)
    wanted = kind.strip()
    titles = {info.title: kind for kind, info in LETTER_TYPES.items()}
    wanted_kind = titles.get(wanted, wanted)
    wanted_number = normalise_number(wanted)
    for letter in reversed(letters):
        if wanted_kind == letter.kind or wanted_number == normalise_number(letter.number):
            return letter
    issued = "、".join(f"{_kind_title(x.kind)}（{x.number}）" for x in letters) or "无"
    options = "、".join(f"{info.title}（{k}）" for k, info in LETTER_TYPES.items())
    raise NotFound(
        "kind",
        f"案件{case_id}没有“{kind}”文书；已发文书：{issued}；可按文号或文书类别查找：{options}",
        rule="not_issued",
    )


def _kind_title(kind: str) -> str:
    try:
        return LETTER_TYPES[kind].title
    except KeyError:
        return kind


# -- the edge: plain data for the command line and the web ------------------------------


@dataclass(frozen=True)
class LetterView:
    """An issued letter as listings show it."""

    case_id: int
    kind: str
    title: str
    number: str
    issued_on: date
    issued_by: str
    sha256: str


@dataclass(frozen=True)
class StoredLetter(LetterView):
    """An issued letter with its stored HTML, from which every format is printed."""

    html: str = ""


def _stored(letter: Letter) -> StoredLetter:
    return StoredLetter(
        letter.case_id, letter.kind, _kind_title(letter.kind), letter.number,
        letter.issued_on, letter.issued_by, letter.content_sha256, letter.html,
    )  # fmt: skip


#: The formats a letter prints in.
LETTER_FORMATS = FORMATS


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise RuleViolation("format", "one_of", f"格式“{fmt}”无效，可选：{'、'.join(FORMATS)}")
    return fmt


def case_letters(app: App, case_id: int) -> list[StoredLetter]:
    """Every letter of a case, in the order issued."""
    with app.uow() as uow:
        return [_stored(x) for x in list_letters(uow.session, case_id)]


def letter_of(app: App, case_id: int, kind: str) -> StoredLetter:
    """The latest letter of a kind (or with a 文号) on a case; see ``find_letter``."""
    with app.uow() as uow:
        return _stored(find_letter(uow.session, case_id, kind))


def draft_html(app: App, case_id: int) -> str | None:
    """The drafted reply as the supervisor approves it (its 文号 not yet taken), or None if
    the case holds no draft. The caller checks that the viewer may read the case."""
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        if case is None:
            raise NotFound("case", f"案件{case_id}不存在")
        if case.draft_context is None:
            return None
        _title, template = _title_and_template(LetterKind.REPLY, case)
        context = json.loads(case.draft_context)
        return render_html(template, context, _template_dir(app.settings, case))


def letters_to_export(app: App, state: str, kind: str | None = None) -> list[StoredLetter]:
    """Every letter (or every letter of one kind) of the cases now in ``state``."""
    if kind is not None and kind not in LETTER_TYPES:
        raise RuleViolation(
            "kind", "one_of",
            f"文书类别“{printable(kind)}”无效，可选：{'、'.join(LETTER_TYPES)}",
        )  # fmt: skip
    with app.uow() as uow:
        return [_stored(x) for x in letters_in_state(uow.session, parse_state(state).value, kind)]


def printed(letter: StoredLetter, fmt: str) -> bytes:
    """The letter in ``fmt`` (pdf, docx or html), made from its stored HTML."""
    from disclosure.letters.output import render_format  # WeasyPrint and python-docx: on use

    return render_format(letter.html, check_format(fmt))
