"""Checkpoints: the trail anchored outside the database (issue #11).

A signed chain shows that no event was forged, but not that a chain was cut back to an
earlier, genuinely signed state, or that a case vanished with all its rows. A checkpoint
fixes the chain head (version and hash) of every case changed since the previous one,
folds them into a Merkle root, chains to the previous checkpoint by hash and is signed;
the root is then written to a folder outside the database (``DISCLOSURE_CHECKPOINT_DIR``,
one file per checkpoint, never rewritten) and printed on the supervisors' daily digest.
``audit verify`` checks that every checkpoint still matches the trail; with
``--against FOLDER`` it also checks the database's checkpoints against the roots written
out, so that rewriting the checkpoint table as well is caught.

The scheduler takes one at every scan; ``disclosure audit checkpoint`` takes one now.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from disclosure import canonical
from disclosure.errors import RuleViolation
from disclosure.keys import AuditKeys
from disclosure.models.tables import AuditCheckpoint, AuditEvent, Case, CheckpointedHead
from disclosure.services.audit import GENESIS, ChainBreak, utc_text
from disclosure.services.unit_of_work import App
from disclosure.workflow.text import printable

#: Taken inside the checkpoint's transaction on PostgreSQL: one checkpoint at a time.
_LOCK_KEY = 0x636B7074  # "ckpt"
#: Leaves printed per break at most (the rest are counted).
_SHOWN = 10


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as it is written out and shown."""

    seq: int
    at: datetime
    case_count: int
    root: str
    prev_hash: str
    hash: str
    key_id: str
    mac: str

    def record(self) -> dict[str, object]:
        """The external file's content (JSON)."""
        return {
            "seq": self.seq,
            "at": utc_text(self.at),
            "case_count": self.case_count,
            "root": self.root,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "key_id": self.key_id,
            "mac": self.mac,
        }


def leaf_hash(case_id: int, version: int, head: str) -> str:
    return hashlib.sha256(f"{case_id}:{version}:{head}".encode("ascii")).hexdigest()


def merkle_root(leaves: Sequence[str]) -> str:
    """The root of a binary Merkle tree over ``leaves`` (hex); an odd node moves up as is."""
    level = list(leaves) or [hashlib.sha256(b"").hexdigest()]
    while len(level) > 1:
        paired = [
            hashlib.sha256(bytes.fromhex(level[i] + level[i + 1])).hexdigest()
            for i in range(0, len(level) - 1, 2)
        ]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def merkle_proof(leaves: Sequence[str], index: int) -> list[tuple[str, str]]:
    """The path from leaf ``index`` to ``merkle_root(leaves)``: (side of the sibling, its
    hash) per level, ``"L"`` or ``"R"``; a node promoted alone has no sibling there."""
    proof = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level) and not (len(level) % 2 and index == len(level) - 1):
            proof.append(("L" if sibling < index else "R", level[sibling]))
        level = [
            hashlib.sha256(bytes.fromhex(level[i] + level[i + 1])).hexdigest()
            for i in range(0, len(level) - 1, 2)
        ] + ([level[-1]] if len(level) % 2 else [])
        index //= 2
    return proof


def root_from_proof(leaf: str, proof: Sequence[Sequence[str]]) -> str:
    """The root ``merkle_proof``'s path leads to from ``leaf``."""
    node = leaf
    for side, sibling in proof:
        pair = sibling + node if side == "L" else node + sibling
        node = hashlib.sha256(bytes.fromhex(pair)).hexdigest()
    return node


def checkpoint_hash(seq: int, at: datetime, case_count: int, root: str, prev_hash: str) -> str:
    body: dict[str, str | int] = {
        "seq": seq,
        "at": utc_text(at),
        "case_count": case_count,
        "root": root,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical.dumps(body).encode("utf-8")).hexdigest()


def _view(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(
        row.seq, row.at, row.case_count, row.root, row.prev_hash, row.hash, row.key_id, row.mac
    )


def take(app: App) -> Checkpoint | None:
    """Checkpoint every case changed since the last checkpoint, then write every checkpoint
    not yet in the folder; None if no case changed."""
    keys = app.settings.audit_keys
    with app.uow() as uow:
        session = uow.session
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        changed = session.execute(
            select(Case.id, Case.version, Case.audit_head)
            .outerjoin(CheckpointedHead, CheckpointedHead.case_id == Case.id)
            .where(
                (CheckpointedHead.version.is_(None)) | (CheckpointedHead.version != Case.version)
            )
            .order_by(Case.id)
        ).all()
        made = None
        if changed:
            last = session.scalars(
                select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
            ).first()
            seq, prev = (last.seq + 1, last.hash) if last is not None else (1, GENESIS)
            leaves = [(case_id, version, head or "") for case_id, version, head in changed]
            root = merkle_root([leaf_hash(*leaf) for leaf in leaves])
            at = app.now().astimezone(UTC)
            digest = checkpoint_hash(seq, at, len(leaves), root, prev)
            key_id, mac = keys.sign(digest)
            row = AuditCheckpoint(
                seq=seq, at=at, case_count=len(leaves), leaves=json.dumps(leaves),
                root=root, prev_hash=prev, hash=digest, key_id=key_id, mac=mac,
            )  # fmt: skip
            session.add(row)
            session.flush()
            _remember_heads(
                connection, seq, [(case_id, version) for case_id, version, _ in changed]
            )
            made = _view(row)
        uow.commit()
    write_out(app)
    return made


def _remember_heads(connection: Connection, seq: int, heads: list[tuple[int, int]]) -> None:
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = cast(Table, CheckpointedHead.__table__)
    statement = insert(table)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.case_id],
            set_={
                "version": statement.excluded.version,
                "checkpoint_seq": statement.excluded.checkpoint_seq,
            },
        ),
        [{"case_id": c, "version": v, "checkpoint_seq": seq} for c, v in heads],
    )


def _file_name(seq: int) -> str:
    return f"checkpoint-{seq:08d}.json"


def folder_of(app: App) -> Path:
    return app.settings.checkpoint_dir


def write_out(app: App) -> int:
    """Write every checkpoint missing from the folder (never rewriting a file there);
    return how many were written. A checkpoint whose file could not be written last time
    (a crash after the commit, a full disk) is written by the next call."""
    folder = folder_of(app)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    present = {p.name for p in folder.glob("checkpoint-*.json")}
    written = 0
    with app.uow() as uow:
        rows = uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
        for row in rows:
            name = _file_name(row.seq)
            if name in present:
                continue
            data = json.dumps(_view(row).record(), ensure_ascii=False, indent=1) + "\n"
            try:
                fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            except FileExistsError:  # another process wrote it meanwhile
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            written += 1
    return written


def latest(app: App) -> Checkpoint | None:
    with app.uow() as uow:
        return latest_in(uow.session)


def latest_in(session: Session) -> Checkpoint | None:
    row = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).first()
    return _view(row) if row is not None else None


#: Who gets the latest checkpoint printed on their digest.
ANCHOR_ROLES = frozenset({"supervisor", "auditor"})


def anchor_line(session: Session) -> str:
    """The latest checkpoint as one line to keep on paper ("" if there is none yet)."""
    made = latest_in(session)
    if made is None:
        return ""
    return (
        f"审计锚点：第{made.seq}号检查点（{utc_text(made.at)}，{made.case_count}件案件）"
        f"根哈希 {made.root}（请留存，可用于核对审计轨迹未被改写）"
    )


def _event_hashes(session: Session, leaves: list[list[object]]) -> dict[tuple[int, int], str]:
    """The hash of each leaf's event (case, seq = version), where it still exists."""
    found: dict[tuple[int, int], str] = {}
    by_case: dict[int, int] = {int(str(c)): int(str(v)) for c, v, _ in leaves}
    ids = list(by_case)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for case_id, seq, digest in session.execute(
            select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.hash).where(
                AuditEvent.case_id.in_(chunk),
                AuditEvent.seq.in_({by_case[i] for i in chunk}),
            )
        ):
            found[(case_id, seq)] = digest
    return found


def checkpoint_breaks(session: Session, keys: AuditKeys) -> list[ChainBreak]:
    """Every checkpoint's chain, signature and root, and that the events it fixed are
    still the trail's (a chain cut back or rewritten, a case deleted)."""
    breaks: list[ChainBreak] = []
    prev = GENESIS
    expected_seq = 1
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    for row in rows:
        where = f"第{row.seq}号检查点"
        if row.seq != expected_seq:
            breaks.append(ChainBreak(None, None, f"第{expected_seq}号检查点缺失：检查点被删除"))
            return breaks
        leaves = json.loads(row.leaves)
        root = merkle_root([leaf_hash(int(c), int(v), str(h)) for c, v, h in leaves])
        digest = checkpoint_hash(row.seq, row.at, row.case_count, row.root, row.prev_hash)
        problem = None
        if row.prev_hash != prev:
            problem = "前序哈希不符：此前的检查点被删除或改动"
        elif root != row.root or len(leaves) != row.case_count or digest != row.hash:
            problem = "内容与其哈希不符：检查点被改动"
        elif (unsigned := keys.check(row.key_id, row.hash, row.mac)) is not None:
            problem = f"{unsigned}：检查点被伪造或改写"
        if problem is not None:
            breaks.append(ChainBreak(None, None, f"{where}{problem}"))
            return breaks
        hashes = _event_hashes(session, leaves)
        gone = [f"案件{c}第{v}条" for c, v, h in leaves if hashes.get((int(c), int(v))) != h]
        if gone:
            shown = "、".join(gone[:_SHOWN]) + (f"等{len(gone)}处" if len(gone) > _SHOWN else "")
            breaks.append(ChainBreak(None, None, (
                f"{where}（{utc_text(row.at)}）记下的轨迹已不在库中或已改变：{shown}："
                "轨迹被截断、改写，或案件被删除"
            )))  # fmt: skip
        prev, expected_seq = row.hash, row.seq + 1
    return breaks


@dataclass(frozen=True)
class AnchorReport:
    """``verify --against``: how many external roots were compared, and what no longer matches."""

    compared: int
    breaks: list[ChainBreak]


def verify_against(app: App, folder: Path) -> AnchorReport:
    """Compare the database's checkpoints with the roots written to ``folder``.

    Names the first checkpoint that no longer matches (missing from the database, or with
    another root or hash) and the cases it fixed; a checkpoint the database has but the
    folder lacks is reported too (written out by the next checkpoint, or removed there).

    Raises:
        RuleViolation: ``folder`` is not a folder or holds no checkpoint file.
    """
    shown = printable(str(folder), 200)
    try:
        files = sorted(folder.glob("checkpoint-*.json")) if folder.is_dir() else None
    except (OSError, ValueError):  # a name too long, a NUL: no such folder either
        files = None
    if files is None:
        raise RuleViolation("against", "folder_missing", f"外部检查点目录“{shown}”不存在或不是目录")
    if not files:
        raise RuleViolation("against", "empty", f"外部检查点目录“{shown}”中没有检查点文件")
    external: dict[int, dict[str, object]] = {}
    breaks: list[ChainBreak] = []
    for path in files:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            external[int(record["seq"])] = record
        except (OSError, ValueError, KeyError, TypeError):
            breaks.append(ChainBreak(None, None, f"检查点文件{path.name}无法读取或格式不符"))
    with app.uow() as uow:
        rows = {
            row.seq: row
            for row in uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
        }
        top = uow.session.scalar(select(func.max(AuditCheckpoint.seq))) or 0
        for seq in sorted(external):
            record, row = external[seq], rows.get(seq)
            if row is None or row.root != record.get("root") or row.hash != record.get("hash"):
                leaves = json.loads(row.leaves) if row is not None else []
                cases = "、".join(str(c) for c, _, _ in leaves[:_SHOWN]) or "（库中已无此检查点）"
                state = "库中没有此检查点" if row is None else "库中的根哈希与外部存档不符"
                breaks.append(ChainBreak(None, None, (
                    f"第{seq}号检查点（{record.get('at')}）{state}：检查点表被改写；"
                    f"外部存档的根为{str(record.get('root'))[:16]}…，涉及案件：{cases}"
                )))  # fmt: skip
                break
        unanchored = [seq for seq in range(1, top + 1) if seq not in external]
        if unanchored:
            breaks.append(ChainBreak(None, None, (
                f"库中第{unanchored[0]}号等{len(unanchored)}个检查点不在外部存档中："
                "尚未写出（下次检查点时补写），或存档被删除"
            )))  # fmt: skip
    return AnchorReport(len(external), breaks)
