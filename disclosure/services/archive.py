"""卷宗: an archived case as one ZIP an auditor can take away and check without the database.

The file holds every letter as PDF (made from its stored HTML) and as that HTML, the case
summary and its trail as a PDF table and as JSON, the clock events, and ``manifest.json``
with the SHA-256 of every file, the chain head and the checkpoint that covers the case
(with its Merkle proof). ``manifest.sha256`` holds the manifest's own hash.

``verify_file`` needs nothing but the ZIP: it recomputes every file's hash, the whole chain
from the trail's JSON under each event's scheme, the letters' hashes against what the trail
recorded, and the checkpoint's root from the proof — and says in Chinese what holds and
what does not. The MACs need the audit key: checked when one is given, else reported as not
checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure.errors import NotFound, RuleViolation
from disclosure.files import write_private
from disclosure.keys import AuditKeys
from disclosure.letters.output import html_to_pdf
from disclosure.models.tables import (
    Agency,
    AuditCheckpoint,
    AuditEvent,
    Case,
    CheckpointedHead,
    ClockEventRow,
    Letter,
)
from disclosure.reports.archive import case_file_pdf
from disclosure.services.agencies import check_agency, scope
from disclosure.services.audit import GENESIS, clock_event_record, hash_holds
from disclosure.services.cases import viewer_of
from disclosure.services.checkpoints import leaf_hash, merkle_proof, root_from_proof
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import mask_id
from disclosure.workflow.states import OUTCOMES, STATE_LABELS, State
from disclosure.workflow.text import printable
from disclosure.workflow.triggers import TRIGGERS_BY_NAME

FORMAT = "disclosure-archive/1"
MANIFEST, MANIFEST_HASH = "manifest.json", "manifest.sha256"
#: What a 卷宗 may unpack to at most (a case's letters and trail are a few MB).
MAX_CONTENT_BYTES = 1024 * 1024 * 1024


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _event_record(event: AuditEvent) -> dict[str, Any]:
    return {column.key: getattr(event, column.key) for column in AuditEvent.__table__.columns}


def _load(session: Session, case_id: int) -> tuple[Case, list[AuditEvent], list[Letter]]:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", f"案件{case_id}不存在")
    events = list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
        )
    )
    letters = list(
        session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id))
    )
    return case, events, letters


def _covering_checkpoint(session: Session, case: Case) -> dict[str, Any] | None:
    """The checkpoint that fixed the case at its current version, with the Merkle proof."""
    head = session.get(CheckpointedHead, case.id)
    if head is None or head.version != case.version or head.checkpoint_seq is None:
        return None
    row = session.get(AuditCheckpoint, head.checkpoint_seq)
    if row is None:
        return None
    leaves = json.loads(row.leaves)
    index = next((i for i, leaf in enumerate(leaves) if leaf[0] == case.id), None)
    if index is None:
        return None
    hashes = [leaf_hash(int(c), int(v), str(h)) for c, v, h in leaves]
    return {
        "seq": row.seq, "at": row.at.isoformat(), "root": row.root, "hash": row.hash,
        "leaf": leaves[index], "proof": merkle_proof(hashes, index),
    }  # fmt: skip


def _outcome_label(outcome: str | None, reason: str | None) -> str:
    if outcome not in OUTCOMES:
        return "—"
    known = OUTCOMES[outcome]
    return known.label + (f"（{known.reasons.get(reason or '', reason)}）" if reason else "")


def _letter_name(index: int, letter: Letter, ext: str) -> str:
    return f"letters/{index:02d}-{letter.kind}.{ext}"


def _trail_rows(events: list[AuditEvent]) -> list[dict[str, object]]:
    rows = []
    for event in events:
        payload = json.loads(event.payload)
        limits = payload.get("limits") or {}
        reply = limits.get("reply") if isinstance(limits, dict) else None
        trigger = TRIGGERS_BY_NAME.get(event.trigger)
        before = STATE_LABELS.get(State(event.from_state)) if event.from_state else "—"
        after = STATE_LABELS.get(State(event.to_state), event.to_state)
        note = "；".join(
            str(payload[k]) for k in ("outcome", "reason_code", "summary", "kind") if payload.get(k)
        )
        rows.append({
            "seq": event.seq,
            "at": event.at.strftime("%Y-%m-%d %H:%M"),
            "actor": f"{event.actor}（{event.actor_role}）",
            "what": trigger.label if trigger else ("登记" if event.trigger == "register" else event.trigger),
            "states": after if before == after else f"{before} → {after}",
            "reply_due": reply.get("due", "") if isinstance(reply, dict) else "",
            "note": "；".join(x for x in (event.reason, note) if x),
        })  # fmt: skip
    return rows


def case_file(app: App, case_id: int, *, viewer: str | None = None) -> tuple[str, bytes]:
    """The 卷宗 of an archived case: (a file name, the ZIP's bytes).

    Raises:
        NotFound: no such case. PermissionDenied: the viewer does not work for its agency.
        RuleViolation: the case is not archived yet (``state``).
    """
    with app.uow() as uow:
        session = uow.session
        case, events, letters = _load(session, case_id)
        user = viewer_of(session, viewer)
        if user is not None:
            check_agency(user, case.agency_id, "导出其卷宗")
        if case.state != State.ARCHIVED.value:
            raise RuleViolation(
                "state", "not_archived",
                f"案件{case_id}尚未归档（{STATE_LABELS[State(case.state)]}），归档后才能导出卷宗",
            )  # fmt: skip
        clock = list(
            session.scalars(
                select(ClockEventRow)
                .where(ClockEventRow.case_id == case_id)
                .order_by(ClockEventRow.seq)
            )
        )
        agency = session.get(Agency, case.agency_id)
        checkpoint = _covering_checkpoint(session, case)
        summary = {
            "案件编号": str(case.id), "机关": agency.name if agency else "",
            "申请人": case.applicant.name, "证件号码": mask_id(case.applicant.id_number),
            "申请内容": case.description, "收到申请日期": case.received_on.isoformat(),
            "状态": STATE_LABELS[State(case.state)],
            "办理结果": _outcome_label(case.outcome, case.outcome_reason),
            "办结日期": str(case.closed_on or ""), "归档日期": str(case.archived_on or ""),
            "保存至": str(case.retain_until or ""),
        }  # fmt: skip
        files: dict[str, bytes] = {}
        for index, letter in enumerate(letters, start=1):
            files[_letter_name(index, letter, "html")] = letter.html.encode("utf-8")
            files[_letter_name(index, letter, "pdf")] = html_to_pdf(letter.html)
        files["trail.json"] = _json([_event_record(e) for e in events])
        files["clock_events.json"] = _json([clock_event_record(row) for row in clock])
        files["case.json"] = _json(
            {**summary, "case_id": case.id, "version": case.version, "audit_head": case.audit_head}
        )
        clock_rows = [
            {"seq": r.seq, "kind": r.kind, "on": r.occurred_on.isoformat(),
             "extent": r.days or r.until or "", "note": r.note or r.party or ""}
            for r in clock
        ]  # fmt: skip
        title = f"案件{case.id}卷宗"
        files["case.pdf"] = case_file_pdf(
            title, summary, _trail_rows(events), clock_rows, case.audit_head or ""
        )
        manifest = {
            "format": FORMAT,
            "case_id": case.id,
            "agency": agency.code if agency else None,
            "exported_at": app.now().isoformat(),
            "chain_head": {"version": case.version, "hash": case.audit_head},
            "checkpoint": checkpoint,
            "letters": {
                _letter_name(i, x, "html"): x.number for i, x in enumerate(letters, start=1)
            },
            "files": {name: _sha256(data) for name, data in sorted(files.items())},
        }
    manifest_bytes = _json(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(MANIFEST_HASH, _sha256(manifest_bytes) + "\n")
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return f"case-{case_id}.zip", buffer.getvalue()


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; a name too long or holding NUL is none."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def export_case(app: App, case_id: int, out: Path, *, viewer: str | None = None) -> Path:
    """Write the 卷宗 of one case to ``out`` (a file, or a folder to put ``case-N.zip`` in)."""
    name, data = case_file(app, case_id, viewer=viewer)
    target = out / name if _is_folder(out) else out
    return write_private(target, data)


def archived_cases(
    app: App, *, agency: str | None, year: int | None, viewer: str | None = None
) -> list[int]:
    """The archived cases of an agency (or every agency the viewer sees), archived in
    ``year`` if given, by id."""
    with app.uow() as uow:
        session = uow.session
        allowed = scope(session, viewer_of(session, viewer), agency)
        query = select(Case.id).where(Case.state == State.ARCHIVED.value).order_by(Case.id)
        if allowed is not None:
            query = query.where(Case.agency_id.in_(allowed))
        if year is not None:
            query = query.where(
                Case.archived_on >= date(year, 1, 1), Case.archived_on <= date(year, 12, 31)
            )
        return list(session.scalars(query))


def export_many(
    app: App,
    case_ids: list[int],
    folder: Path,
    *,
    viewer: str | None = None,
    advance: Callable[[], None] = lambda: None,
) -> list[Path]:
    """One ZIP per case in ``folder`` (made if its parent exists; each file written whole
    or not at all)."""
    if not _is_folder(folder):
        try:
            folder.mkdir(mode=0o700)
        except (OSError, ValueError):
            shown = printable(str(folder), 200)
            raise RuleViolation(
                "out", "folder_missing", f"输出文件夹“{shown}”不存在且无法建立，请换一个输出路径"
            ) from None
    written = []
    for case_id in case_ids:
        written.append(export_case(app, case_id, folder, viewer=viewer))
        advance()
    return written


@dataclass(frozen=True)
class DisposalDue:
    case_id: int
    agency: str
    archived_on: date
    retain_until: date


def due_for_disposal(app: App, today: date, *, viewer: str | None = None) -> list[DisposalDue]:
    """Archived files whose retention period has ended (nothing is ever deleted by us)."""
    with app.uow() as uow:
        session = uow.session
        allowed = scope(session, viewer_of(session, viewer), None)
        query = (
            select(Case.id, Agency.name, Case.archived_on, Case.retain_until)
            .join(Agency, Agency.id == Case.agency_id)
            .where(Case.state == State.ARCHIVED.value, Case.retain_until <= today)
            .order_by(Case.retain_until, Case.id)
        )
        if allowed is not None:
            query = query.where(Case.agency_id.in_(allowed))
        return [
            DisposalDue(case_id, name, archived, until)
            for case_id, name, archived, until in session.execute(query)
            if archived is not None and until is not None
        ]


# -- offline verification ----------------------------------------------------------------


@dataclass
class FileCheck:
    """What ``verify_file`` found: each line is (holds, Chinese sentence)."""

    lines: list[tuple[bool, str]] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.lines.append((True, text))

    def bad(self, text: str) -> None:
        self.lines.append((False, text))

    @property
    def intact(self) -> bool:
        return all(holds for holds, _ in self.lines)


def _members(archive: zipfile.ZipFile, check: FileCheck) -> Iterator[tuple[str, bytes]]:
    for info in archive.infolist():
        try:
            yield info.filename, archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, zlib.error):
            check.bad(f"文件{info.filename}已损坏（压缩包校验和不符）")


def verify_file(data: bytes, keys: AuditKeys | None = None) -> FileCheck:
    """Check a 卷宗 ZIP with nothing but its bytes (and, if given, the audit keys)."""
    check = FileCheck()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        check.bad("卷宗文件不是有效的压缩包（ZIP 文件损坏或格式不符）")
        return check
    with archive:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > MAX_CONTENT_BYTES:
            check.bad(f"卷宗文件声明的内容共{declared:,}字节，超过上限：不予展开")
            return check
        contents = dict(_members(archive, check))
    manifest_bytes = contents.pop(MANIFEST, None)
    recorded_hash = contents.pop(MANIFEST_HASH, b"").decode("ascii", "replace").strip()
    if manifest_bytes is None:
        check.bad("缺少清单 manifest.json")
        return check
    if _sha256(manifest_bytes) != recorded_hash:
        check.bad("清单 manifest.json 与其哈希 manifest.sha256 不符：清单被改动")
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, str] = dict(manifest["files"])
    except (ValueError, KeyError, TypeError):
        check.bad("清单 manifest.json 无法读取")
        return check
    _check_files(contents, listed, check)
    events = _check_chain(contents, manifest, check, keys)
    if events is not None:
        _check_letters(contents, manifest, events, check)
        _check_checkpoint(manifest, events, check)
    return check


def _check_files(contents: dict[str, bytes], listed: dict[str, str], check: FileCheck) -> None:
    broken = 0
    for name, digest in sorted(listed.items()):
        data = contents.get(name)
        if data is None:
            check.bad(f"清单所列文件{name}缺失")
            broken += 1
        elif _sha256(data) != digest:
            check.bad(f"文件{name}的内容与清单记载的哈希不符：文件被改动")
            broken += 1
    for name in sorted(set(contents) - set(listed)):
        check.bad(f"文件{name}不在清单中：被加入")
        broken += 1
    if not broken:
        check.ok(f"{len(listed)}个文件与清单记载的哈希一致")


def _check_chain(
    contents: dict[str, bytes], manifest: dict[str, Any], check: FileCheck, keys: AuditKeys | None
) -> list[AuditEvent] | None:
    try:
        records = json.loads(contents.get("trail.json", b"[]"))
        events = [AuditEvent(**{k: v for k, v in r.items() if k != "at"}) for r in records]
        for event, record in zip(events, records, strict=True):
            event.at = datetime.fromisoformat(str(record["at"]))
    except (ValueError, TypeError, KeyError):
        check.bad("轨迹 trail.json 无法读取")
        return None
    prev = GENESIS
    for expected, event in enumerate(events, start=1):
        problem = None
        if event.seq != expected:
            problem = f"第{expected}条事件缺失"
        elif event.prev_hash != prev:
            problem = f"第{event.seq}条事件的前序哈希不符：此前的事件被删除或改动"
        elif not hash_holds(event):
            problem = f"第{event.seq}条事件的内容与其哈希不符：事件被改动"
        if problem:
            check.bad(f"轨迹：{problem}")
            return None
        prev = event.hash
    head = manifest.get("chain_head") or {}
    if head.get("hash") != prev or head.get("version") != len(events):
        check.bad("轨迹末条与清单记载的链头不符：轨迹被截断或清单被改动")
        return None
    check.ok(f"轨迹{len(events)}条事件的哈希链完整，末条哈希 {prev[:16]}…")
    for event in events:
        if event.trigger == "anonymise":
            check.ok(
                f"本案个人信息已于{event.at:%Y-%m-%d %H:%M}（UTC）由{event.actor}作匿名处理"
                f"（{event.reason}），文书存档为匿名后的内容"
            )
    if keys is None:
        check.ok("各事件的签名（HMAC）需审计密钥，本次未核验")
    else:
        unsigned = [e.seq for e in events if keys.check(e.key_id, e.hash, e.mac) is not None]
        if unsigned:
            check.bad(f"第{unsigned[0]}条等{len(unsigned)}条事件的签名不符：事件被伪造或改写")
        else:
            check.ok("每条事件的签名与审计密钥相符")
    return events


def _check_letters(
    contents: dict[str, bytes],
    manifest: dict[str, Any],
    events: list[AuditEvent],
    check: FileCheck,
) -> None:
    recorded: dict[str, str] = {}
    for event in events:
        for letter in json.loads(event.payload).get("letters", []):
            recorded[letter["number"]] = letter["sha256"]
    wrong = []
    for name, number in sorted(dict(manifest.get("letters") or {}).items()):
        data = contents.get(name)
        if data is None or recorded.get(number) != _sha256(data):
            wrong.append(number)
    if wrong or len(manifest.get("letters") or {}) != len(recorded):
        check.bad(f"文书{'、'.join(wrong) or ''}与轨迹记载的内容不符，或文书有缺失")
    else:
        check.ok(f"{len(recorded)}份文书的存档内容与轨迹记载一致")


def _check_checkpoint(manifest: dict[str, Any], events: list[AuditEvent], check: FileCheck) -> None:
    point = manifest.get("checkpoint")
    if not point:
        check.ok("导出时尚无检查点覆盖本案当前版本（下次检查点后重新导出可附上）")
        return
    try:
        case_id, version, head = point["leaf"]
        root = root_from_proof(leaf_hash(int(case_id), int(version), str(head)), point["proof"])
    except (KeyError, TypeError, ValueError):
        check.bad("清单中的检查点无法读取")
        return
    fixed = events[int(version) - 1].hash if 0 < int(version) <= len(events) else None
    if root != point.get("root") or fixed != head or case_id != manifest.get("case_id"):
        check.bad(f"第{point.get('seq')}号检查点与本卷宗的轨迹不符")
        return
    check.ok(
        f"第{point['seq']}号检查点（{point.get('at')}）覆盖本案，根哈希 {root[:16]}…"
        "（可与外部存档的检查点比对）"
    )
