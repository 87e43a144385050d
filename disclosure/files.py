"""Writing files that hold personal data: private, atomic, and never through a trap.

Letters, batches and calendar feeds name applicants. ``write_private`` writes them so that
(1) nobody else can read them, whatever the umask: the temporary file is created with
``os.open(..., O_CREAT | O_EXCL, mode)`` and chmod-ed to ``mode``; (2) a reader never sees
half a file: the data is written to a temporary file in the same folder, fsync-ed, and
renamed over the target with ``os.replace``; (3) the target is refused when it exists but is
not a regular file — a symlink (even to a regular file: it could point anywhere), a device
such as /dev/full, a FIFO, a folder — or when its folder does not exist.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from disclosure.errors import RuleViolation

_KINDS = (
    (stat.S_ISLNK, "符号链接"),
    (stat.S_ISDIR, "文件夹"),
    (stat.S_ISFIFO, "命名管道"),
    (stat.S_ISCHR, "字符设备"),
    (stat.S_ISBLK, "块设备"),
    (stat.S_ISSOCK, "套接字"),
)


def _refuse_target(path: Path) -> None:
    if not path.parent.is_dir():
        raise RuleViolation(
            field="out",
            rule="folder_missing",
            message=f"输出文件夹“{path.parent}”不存在，请先建立该文件夹或换一个输出路径",
        )
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "特殊文件")
    raise RuleViolation(
        field="out",
        rule="not_a_regular_file",
        message=f"输出路径“{path}”已存在且是{kind}，不是普通文件：为防止写到别处，已拒绝写入",
    )


def write_private(path: Path, data: bytes, *, mode: int = 0o600) -> Path:
    """Write ``data`` to ``path`` atomically, readable only as ``mode`` allows.

    Args:
        path: the target file; an existing regular file is replaced.
        data: the bytes to write.
        mode: permission bits of the written file, applied whatever the umask.

    Returns:
        ``path``.

    Raises:
        RuleViolation: (field ``out``) the folder does not exist, or the target exists and
            is not a regular file.
        OSError: the disk refused the write (full, read-only …); no partial file is left.
    """
    path = Path(path)
    _refuse_target(path)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits the caller asked for
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # Re-check: the target may have been swapped for a link or a device meanwhile.
        # os.replace would replace such an entry rather than write through it, but a
        # refusal is clearer than silently replacing a symlink the user made.
        _refuse_target(path)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: some file systems refuse fsync on folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
