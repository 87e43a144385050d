"""The audit key ring: HMAC-SHA-256 keys kept outside the database (issue #11).

Someone with database rights can rewrite a whole hash chain consistently; without the key
they cannot make the MAC that every event and checkpoint carries. A key comes from
``DISCLOSURE_AUDIT_KEY`` (a secret of at least 32 characters) or from the key file
(``DISCLOSURE_AUDIT_KEY_FILE``, by default ``audit.keys`` in the data folder): one key per
line, base64url, the last line signing new records and every line still verifying old ones,
so a key is rotated by appending a line (``disclosure audit rotate-key``). With neither,
the first use creates the file with one random key, readable by its owner only.

A key's id is derived from the key itself (``k`` + 10 hex digits of its SHA-256): two nodes
configured with different keys sign under different ids, and verification says which key is
missing instead of crying forgery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from disclosure.errors import ConfigurationError

_MIN_SECRET = 32


def key_id_of(secret: bytes) -> str:
    return "k" + hashlib.sha256(secret).hexdigest()[:10]


@dataclass(frozen=True)
class AuditKeys:
    """The keys by id, and the id that signs new records."""

    current: str
    keys: dict[str, bytes] = field(repr=False)

    @classmethod
    def of(cls, secrets_in_order: list[bytes]) -> AuditKeys:
        keys = {key_id_of(secret): secret for secret in secrets_in_order}
        return cls(current=key_id_of(secrets_in_order[-1]), keys=keys)

    def sign(self, text: str) -> tuple[str, str]:
        """(key id, HMAC-SHA-256 of ``text`` in hex) under the current key."""
        return self.current, self.mac(self.current, text)

    def mac(self, key_id: str, text: str) -> str:
        return hmac.new(self.keys[key_id], text.encode("utf-8"), hashlib.sha256).hexdigest()

    def check(self, key_id: str | None, text: str, mac: str | None) -> str | None:
        """None if ``mac`` is the MAC of ``text`` under ``key_id``; else what is wrong."""
        if key_id is None or mac is None:
            return "没有签名"
        if key_id not in self.keys:
            return f"签名密钥{key_id}不在本机的密钥中，无法确认"
        if not hmac.compare_digest(self.mac(key_id, text), mac):
            return "签名不符"
        return None


def _decode(line: str, path: Path, number: int) -> bytes:
    try:
        secret = base64.urlsafe_b64decode(line.encode("ascii") + b"=" * (-len(line) % 4))
    except (ValueError, UnicodeEncodeError):
        secret = b""
    if len(secret) < _MIN_SECRET:
        raise ConfigurationError(
            field="DISCLOSURE_AUDIT_KEY_FILE",
            message=f"审计密钥文件“{path}”第{number}行不是有效的密钥（base64url，至少{_MIN_SECRET}字节）",
        )
    return secret


def read_key_file(path: Path) -> AuditKeys:
    """The key ring in ``path``.

    Raises:
        ConfigurationError: the file cannot be read, holds no key or a malformed line.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            field="DISCLOSURE_AUDIT_KEY_FILE",
            message=f"无法读取审计密钥文件“{path}”：{type(exc).__name__}",
        ) from None
    found = [
        _decode(line.strip(), path, number)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not found:
        raise ConfigurationError(
            field="DISCLOSURE_AUDIT_KEY_FILE", message=f"审计密钥文件“{path}”中没有密钥"
        )
    return AuditKeys.of(found)


def _new_line() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(_MIN_SECRET)).decode("ascii").rstrip("=")


def create_key_file(path: Path) -> None:
    """Create ``path`` with one new key, owner-only, unless it exists (then leave it).

    The key is written to a private temporary file first and linked into place, so a
    process racing to create it sees either no file or a whole one, never an empty file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    header = "# disclosure 审计密钥：每行一个，最后一行用于签名新记录；勿删除旧行，勿放入数据库\n"
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(header + _new_line() + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it first: use that one
            pass
    finally:
        temporary.unlink()


def rotate_key_file(path: Path) -> str:
    """Append a new key to ``path`` (or create it with one); return the new key's id."""
    if not path.exists():
        create_key_file(path)
        return read_key_file(path).current
    line = _new_line()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())
    return read_key_file(path).current


def load_keys(secret: str, path: Path) -> AuditKeys:
    """The key ring: ``secret`` (the environment's key) if given, else the key file
    (created on first use)."""
    if secret:
        if len(secret) < _MIN_SECRET:
            raise ConfigurationError(
                field="DISCLOSURE_AUDIT_KEY",
                message=f"配置项 DISCLOSURE_AUDIT_KEY（审计密钥）太短：至少{_MIN_SECRET}个字符",
            )
        return AuditKeys.of([secret.encode("utf-8")])
    if not path.exists():
        create_key_file(path)
    return read_key_file(path)


def user_record(name: str, role: str, all_agencies: bool, agency_ids: list[int]) -> str:
    """What a user's MAC covers: who they are and what they may do."""
    agencies = ",".join(str(i) for i in sorted(agency_ids))
    return f"user\x1f{name}\x1f{role}\x1f{int(all_agencies)}\x1f{agencies}"
