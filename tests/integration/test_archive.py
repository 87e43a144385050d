"""卷宗: the exported file checked offline, the archived case read-only in the database, and
its retention (issue #11)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from disclosure.errors import RuleViolation
from disclosure.services import archive, cases, checkpoints
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, application
from tests.integration.test_case_service import FULL_CASE, drive


@pytest.fixture
def archived(app: App) -> int:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE)  # …send on 2026-08-12, archive on 2026-08-20
    checkpoints.take(app)
    return case_id


def _zip(app: App, case_id: int) -> bytes:
    return archive.case_file(app, case_id)[1]


def _rewritten(data: bytes, name: str, change: bytes | None = None) -> bytes:
    """The ZIP with one member's content changed (a valid ZIP: as a forger would make it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == name:
                content = change if change is not None else _flip(content)
            target.writestr(info.filename, content)
    return out.getvalue()


def _flip(content: bytes, at: int | None = None) -> bytes:
    position = len(content) // 2 if at is None else at
    return content[:position] + bytes([content[position] ^ 0x01]) + content[position + 1 :]


def test_an_exported_file_verifies_offline_with_its_checkpoint(app: App, archived: int) -> None:
    data = _zip(app, archived)
    with zipfile.ZipFile(io.BytesIO(data)) as archive_file:
        names = set(archive_file.namelist())
        manifest = json.loads(archive_file.read("manifest.json"))
    assert {
        "manifest.json",
        "manifest.sha256",
        "case.pdf",
        "trail.json",
        "clock_events.json",
    } <= names
    pdfs = [n for n in names if n.startswith("letters/") and n.endswith(".pdf")]
    assert len(pdfs) == len(manifest["letters"]) >= 5  # receipt, correction, consults, fee, reply
    assert manifest["checkpoint"]["leaf"][0] == archived
    check = archive.verify_file(data, app.settings.audit_keys)
    assert check.intact, check.lines
    assert any("检查点" in line and holds for holds, line in check.lines)
    assert any("签名与审计密钥相符" in line for _, line in check.lines)


@pytest.mark.parametrize(
    ("member", "finding"),
    [
        ("letters/01-receipt.pdf", "文件letters/01-receipt.pdf的内容与清单记载的哈希不符"),
        ("trail.json", "文件trail.json的内容与清单记载的哈希不符"),
        ("manifest.json", "清单 manifest.json 与其哈希 manifest.sha256 不符"),
    ],
)
def test_one_flipped_byte_in_a_pdf_the_trail_or_the_manifest_is_caught(
    app: App, archived: int, member: str, finding: str
) -> None:
    check = archive.verify_file(_rewritten(_zip(app, archived), member))
    assert not check.intact
    assert any(finding in line for holds, line in check.lines if not holds), check.lines


def test_a_rewritten_trail_with_a_matching_manifest_still_fails_its_chain(
    app: App, archived: int
) -> None:
    data = _zip(app, archived)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        trail = json.loads(source.read("trail.json"))
        manifest = json.loads(source.read("manifest.json"))
    trail[2]["reason"] = "改过的理由"
    changed = json.dumps(trail).encode()
    manifest["files"]["trail.json"] = hashlib.sha256(changed).hexdigest()
    manifest_bytes = json.dumps(manifest).encode()
    forged = _rewritten(_rewritten(data, "trail.json", changed), "manifest.json", manifest_bytes)
    forged = _rewritten(
        forged, "manifest.sha256", hashlib.sha256(manifest_bytes).hexdigest().encode()
    )
    check = archive.verify_file(forged)
    assert [line for holds, line in check.lines if not holds] == [
        "轨迹：第3条事件的内容与其哈希不符：事件被改动"
    ]


def test_a_byte_flipped_in_the_zip_itself_names_the_damaged_member(app: App, archived: int) -> None:
    data = _zip(app, archived)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        info = source.getinfo("case.json")
    damaged = _flip(data, info.header_offset + 30 + len(info.filename) + 5)
    check = archive.verify_file(damaged)
    assert not check.intact
    assert any("case.json" in line for holds, line in check.lines if not holds), check.lines
    assert not archive.verify_file(b"not a zip").intact


def test_only_an_archived_case_exports(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with pytest.raises(RuleViolation) as refused:
        archive.case_file(app, case_id)
    assert (refused.value.field, refused.value.rule) == ("state", "not_archived")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cases SET reply_detail = 'x' WHERE id = :c",
        "DELETE FROM cases WHERE id = :c",
        "UPDATE applicants SET phone = '110' WHERE id = (SELECT applicant_id FROM cases WHERE id = :c)",
        "INSERT INTO clock_events (case_id, seq, kind, occurred_on, note) VALUES (:c, 99, 'extend', '2026-09-01', '')",
    ],
    ids=["update", "delete", "applicant", "clock-event"],
)
def test_an_archived_case_is_read_only_in_the_database(
    app: App, archived: int, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="read-only"), app.engine.begin() as conn:
        conn.execute(text(statement), {"c": archived})


def test_a_case_not_yet_archived_stays_writable(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET reply_detail = 'x' WHERE id = :c"), {"c": case_id})


def test_retention_runs_from_the_archive_date_and_lists_files_past_it(
    app: App, archived: int
) -> None:
    with app.uow() as uow:
        case = cases.load_case(uow.session, archived)
        assert (case.archived_on, case.retain_until) == (date(2026, 8, 20), date(2036, 8, 20))
    assert archive.due_for_disposal(app, date(2036, 8, 19)) == []
    [due] = archive.due_for_disposal(app, date(2036, 8, 20))
    assert (due.case_id, due.retain_until) == (archived, date(2036, 8, 20))


def test_a_batch_writes_one_file_per_archived_case(app: App, archived: int, tmp_path: Path) -> None:
    ids = archive.archived_cases(app, agency=None, year=2026)
    assert ids == [archived]
    [written] = archive.export_many(app, ids, tmp_path)
    assert written.name == f"case-{archived}.zip" and (written.stat().st_mode & 0o077) == 0
    assert archive.verify_file(written.read_bytes()).intact
    assert archive.export_many(app, ids, tmp_path / "new")[0].parent == tmp_path / "new"
    with pytest.raises(RuleViolation) as missing:
        archive.export_many(app, ids, tmp_path / "no" / "such")
    assert missing.value.field == "out"


def test_anonymising_erases_the_personal_data_and_keeps_every_check_passing(
    app: App, archived: int
) -> None:
    from disclosure.services.anonymise import MARKER, anonymise, anonymised_cases
    from disclosure.services.audit import verify_trail

    with app.uow() as uow:
        applicant = cases.load_case(uow.session, archived).applicant
        personal = [applicant.name, applicant.id_number, applicant.phone, applicant.address]
    redacted = anonymise(app, archived, actor="bob", reason="保存期限届满", on=TODAY)
    assert redacted >= 5
    with app.engine.connect() as conn:
        stored = " ".join(
            row[0] + (row[1] or "")
            for row in conn.execute(
                text("SELECT html, context FROM letters WHERE case_id = :c"), {"c": archived}
            )
        )
        row = conn.execute(
            text("SELECT name, id_number, phone FROM applicants a JOIN cases c"
                 " ON c.applicant_id = a.id WHERE c.id = :c"), {"c": archived}
        ).one()  # fmt: skip
    assert not [p for p in personal if p and p in stored] and MARKER in stored
    assert tuple(row) == (MARKER, MARKER, "")
    assert verify_trail(app) == (1, [])
    [done] = anonymised_cases(app)
    assert (done.case_id, done.by, done.reason) == (archived, "bob", "保存期限届满")
    check = archive.verify_file(archive.case_file(app, archived)[1], app.settings.audit_keys)
    assert check.intact, check.lines
    assert any("匿名处理" in line for _, line in check.lines)
    # Still read-only afterwards: the unlock lasted for the anonymisation only.
    with pytest.raises(DBAPIError, match="read-only"), app.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET reply_detail = 'x' WHERE id = :c"), {"c": archived})


def test_only_a_supervisor_anonymises_an_archived_case_once(app: App, archived: int) -> None:
    from disclosure.errors import PermissionDenied
    from disclosure.services.anonymise import anonymise

    with pytest.raises(PermissionDenied):
        anonymise(app, archived, actor="alice", reason="理由", on=TODAY)
    with pytest.raises(RuleViolation) as no_reason:
        anonymise(app, archived, actor="bob", reason="  ", on=TODAY)
    assert no_reason.value.field == "reason"
    open_case = cases.register(app, application(name="李四"), "alice", TODAY)
    with pytest.raises(RuleViolation) as not_archived:
        anonymise(app, open_case, actor="bob", reason="理由", on=TODAY)
    assert not_archived.value.rule == "not_archived"
    anonymise(app, archived, actor="bob", reason="理由", on=TODAY)
    with pytest.raises(RuleViolation) as again:
        anonymise(app, archived, actor="bob", reason="理由", on=TODAY)
    assert again.value.rule == "already"
