"""``write_private``: atomic, private whatever the umask, and never through a trap (#32/#33)."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from disclosure.errors import RuleViolation
from disclosure.files import write_private


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_file_is_private_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "letter.pdf"
    assert write_private(target, b"%PDF-1.7") == target
    assert target.read_bytes() == b"%PDF-1.7"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["letter.pdf"]


def test_an_existing_readable_file_is_replaced_by_a_private_one(tmp_path: Path) -> None:
    target = tmp_path / "feed.ics"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private(target, b"new", mode=0o640)
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def _symlink(tmp_path: Path) -> Path:
    real = tmp_path / "real.txt"
    real.write_bytes(b"keep")
    link = tmp_path / "link.pdf"
    link.symlink_to(real)
    return link


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    return fifo


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "out.pdf"
    folder.mkdir()
    return folder


def _socket(tmp_path: Path) -> Path:
    path = tmp_path / "s.pdf"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_symlink, "符号链接"),
        (_fifo, "命名管道"),
        (_folder, "文件夹"),
        (_socket, "套接字"),
        (lambda _tmp: Path("/dev/full"), "字符设备"),
        (lambda _tmp: Path("/dev/null"), "字符设备"),
    ],
)
def test_a_target_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, make: object, kind: str
) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(RuleViolation) as caught:
        write_private(target, b"secret")
    assert caught.value.field == "out" and caught.value.rule == "not_a_regular_file"
    assert kind in caught.value.message and str(target) in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary left
    if kind == "符号链接":
        assert (tmp_path / "real.txt").read_bytes() == b"keep"


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleViolation) as caught:
        write_private(tmp_path / "no" / "x.ics", b"x")
    assert caught.value.field == "out" and caught.value.rule == "folder_missing"
    assert "不存在" in caught.value.message and not (tmp_path / "no").exists()


def test_an_interrupted_write_leaves_no_partial_file(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_private(tmp_path / "letter.pdf", "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
