"""Checkpoints, the external folder and the key ring (issue #11)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disclosure.config import Settings
from disclosure.errors import ConfigurationError, RuleViolation
from disclosure.keys import key_id_of, load_keys, read_key_file, rotate_key_file
from disclosure.services import cases, checkpoints
from disclosure.services.audit import verify_trail
from disclosure.services.checkpoints import leaf_hash, merkle_proof, merkle_root, root_from_proof
from disclosure.services.notifications import digest_text
from disclosure.services.scheduling import run_scan
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("checkpoint-*.json"))


def test_a_checkpoint_fixes_the_changed_cases_and_is_written_out_read_only(app: App) -> None:
    first = cases.register(app, application(), "alice", TODAY)
    second = cases.register(app, application(name="李四"), "alice", TODAY)
    made = checkpoints.take(app)
    assert made is not None and (made.seq, made.case_count) == (1, 2)
    assert checkpoints.take(app) is None  # nothing changed since

    act(app, second, "review", "alice", on=TODAY)
    again = checkpoints.take(app)
    assert again is not None and (again.seq, again.case_count, again.prev_hash) == (
        2,
        1,
        made.hash,
    )
    [one, two] = _files(app.settings.checkpoint_dir)
    assert stat.S_IMODE(two.stat().st_mode) == 0o444
    record = json.loads(two.read_text(encoding="utf-8"))
    with app.uow() as uow:
        head = cases.load_case(uow.session, second).audit_head
    assert head is not None
    assert record["root"] == merkle_root([leaf_hash(second, 2, head)]) == again.root
    assert record["hash"] == again.hash and json.loads(one.read_text())["seq"] == 1
    assert first != second


def test_a_checkpoint_file_lost_after_the_commit_is_written_by_the_next_call(app: App) -> None:
    cases.register(app, application(), "alice", TODAY)
    checkpoints.take(app)
    [lost] = _files(app.settings.checkpoint_dir)
    lost.chmod(0o644)
    lost.unlink()
    assert checkpoints.write_out(app) == 1
    assert [p.name for p in _files(app.settings.checkpoint_dir)] == [lost.name]
    assert checkpoints.write_out(app) == 0  # a file there is never rewritten


def test_the_scheduler_scan_takes_a_checkpoint(app: App) -> None:
    cases.register(app, application(), "alice", TODAY)
    outcome = run_scan(app, TODAY, slot=None, node="test")
    assert outcome.checkpoint == 1
    assert run_scan(app, TODAY, slot=None, node="test").checkpoint is None


def test_verify_against_an_empty_or_missing_folder_says_which(app: App, tmp_path: Path) -> None:
    with pytest.raises(RuleViolation, match="不存在") as missing:
        checkpoints.verify_against(app, tmp_path / "nowhere")
    assert missing.value.field == "against"
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuleViolation, match="没有检查点文件"):
        checkpoints.verify_against(app, tmp_path / "empty")


def test_an_external_root_that_differs_names_the_checkpoint_and_its_cases(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    checkpoints.take(app)
    [path] = _files(app.settings.checkpoint_dir)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["root"] = "0" * 64
    path.chmod(0o644)
    path.write_text(json.dumps(record), encoding="utf-8")
    [finding] = checkpoints.verify_against(app, app.settings.checkpoint_dir).breaks
    assert "第1号检查点" in finding.problem and f"涉及案件：{case_id}" in finding.problem


@given(st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), max_size=9))
def test_the_merkle_root_changes_with_any_leaf_and_with_their_order(leaves: list[str]) -> None:
    root = merkle_root(leaves)
    assert merkle_root(list(leaves)) == root and len(root) == 64
    for index in range(len(leaves)):
        changed = list(leaves)
        changed[index] = hashlib.sha256(changed[index].encode()).hexdigest()
        assert merkle_root(changed) != root
    if len(set(leaves)) > 1:
        assert merkle_root(list(reversed(leaves))) != root or leaves == leaves[::-1]


def test_a_rotated_key_signs_new_events_and_the_old_key_still_verifies(
    database_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "audit.keys"

    def settings() -> Settings:  # a fresh object reads the key file again, as a restart does
        return Settings.from_env(
            database_url=database_url, audit_key_file=key_file, checkpoint_dir=tmp_path / "cp"
        )

    app = App.open(settings(), create=True)
    try:
        cases.add_user(app, "alice", "clerk", "王晓梅")
        case_id = cases.register(app, application(), "alice", TODAY)
        old = read_key_file(key_file).current
        new = rotate_key_file(key_file)
        assert new != old and set(read_key_file(key_file).keys) == {old, new}
        rotated = App.open(settings(), create=False)
        try:
            act(rotated, case_id, "review", "alice", on=TODAY)
            assert verify_trail(rotated) == (1, [])
            # A node that has only the new key cannot confirm what the old one signed.
            lines = key_file.read_text(encoding="utf-8").splitlines()
            key_file.write_text("\n".join([lines[0], lines[-1]]) + "\n", encoding="utf-8")
            short = App.open(settings(), create=False)
            try:
                breaks = verify_trail(short)[1]
                assert breaks and f"签名密钥{old}不在本机的密钥中" in breaks[0].problem
            finally:
                short.close()
        finally:
            rotated.close()
    finally:
        app.close()


def test_the_key_file_is_private_and_a_bad_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.keys"
    keys = load_keys("", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.current == read_key_file(path).current
    with pytest.raises(ConfigurationError, match="DISCLOSURE_AUDIT_KEY.*太短"):
        load_keys("short", path)
    assert load_keys("x" * 40, path).current == key_id_of(b"x" * 40)
    path.write_text("not a key\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="第1行不是有效的密钥"):
        read_key_file(path)


def test_a_bad_audit_key_setting_never_echoes_the_secret() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(audit_key=["s3cret-value"])
    assert "s3cret" not in str(raised.value)


def test_supervisors_digest_carries_the_latest_checkpoint(app: App) -> None:
    cases.register(app, application(), "alice", TODAY)
    made = checkpoints.take(app)
    assert made is not None
    with app.uow() as uow:
        line = checkpoints.anchor_line(uow.session)
    assert made.root in line and "第1号检查点" in line
    text = digest_text("李建国", [], TODAY, "", line)
    assert made.root in text


@given(
    st.lists(
        st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), min_size=1, max_size=17
    )
)
def test_every_leaf_proves_its_way_to_the_root(leaves: list[str]) -> None:
    root = merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        proof = merkle_proof(leaves, index)
        assert root_from_proof(leaf, proof) == root
        assert root_from_proof(hashlib.sha256(leaf.encode()).hexdigest(), proof) != root
