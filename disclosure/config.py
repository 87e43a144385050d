"""One settings object, read from ``DISCLOSURE_*`` environment variables and validated at start-up."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from disclosure.errors import ConfigurationError
from disclosure.keys import AuditKeys, load_keys
from disclosure.workflow.calendar import WorkingCalendar
from disclosure.workflow.fees import FeeScale
from disclosure.workflow.rules import RuleSet

_LABELS = {
    "database_url": "数据库地址",
    "agency_name": "机关名称",
    "agency_code": "机关代码",
    "agency_timezone": "机关所在时区",
    "approaching_days": "临近期限提醒天数",
    "correction_notice_warn_days": "补正告知提醒天数",
    "correction_period_days": "补正期限（工作日）",
    "calendar_override": "日历覆盖文件",
    "agency_prefix": "文号前缀",
    "agency_address": "机关地址",
    "agency_contact": "联系人",
    "agency_phone": "联系电话",
    "reconsideration_body": "行政复议机关",
    "court": "管辖法院",
    "fee_scale": "收费方式（count 按件 / volume 按量）",
    "fee_payment": "缴费方式说明",
    "template_dir": "文书模板覆盖目录",
    "scan_interval_seconds": "期限扫描间隔（秒）",
    "today": "今天的日期（YYYY-MM-DD）",
    "backdate_working_days": "办理日期可回溯的工作日数",
    "agreed_due_max_days": "另行确定答复期限的最长天数",
    "duplicate_window_days": "重复申请提示的天数",
    "number_with_di": "文号是否加“第”字",
    "session_idle_minutes": "登录空闲超时（分钟）",
    "secure_cookies": "仅通过 HTTPS 发送登录 Cookie",
    "sign_in_attempts_per_minute": "每个地址每分钟的登录尝试次数",
    "smtp_host": "发信服务器（留空则不发每日摘要邮件）",
    "smtp_port": "发信服务器端口",
    "smtp_tls": "发信加密方式（none / starttls / ssl）",
    "smtp_sender": "发信人地址",
    "smtp_user": "发信账号",
    "smtp_password": "发信密码",
    "digest_hour": "每日摘要邮件的发送时刻（0–23 时）",
    "public_url": "工作台地址（写入邮件中的链接）",
    "audit_key": "审计密钥",
    "audit_key_file": "审计密钥文件",
    "checkpoint_dir": "检查点外部存放目录",
}
#: Settings whose value is never echoed in an error message.
_SECRET_SETTINGS = frozenset({"database_url", "smtp_password", "audit_key"})


def default_data_dir() -> Path:
    """Where the default SQLite database lives, whatever the current folder.

    ``$DISCLOSURE_DATA_DIR`` if set, else ``$XDG_DATA_HOME/disclosure``, else
    ``~/.local/share/disclosure`` (the XDG base-directory default). Nothing is created here:
    ``disclosure db upgrade`` creates the folder (mode 0700) with the database.
    """
    explicit = os.environ.get("DISCLOSURE_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = os.environ.get("XDG_DATA_HOME")
    # The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "disclosure"
    return Path.home() / ".local" / "share" / "disclosure"


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'disclosure.db'}"


class Settings(BaseSettings):
    """Everything an installation configures.

    Attributes:
        database_url: SQLAlchemy URL; PostgreSQL for several nodes. By default the SQLite
            file ``disclosure.db`` in ``default_data_dir()``; a relative SQLite path is made
            absolute at start-up, so every message names the file actually used.
        agency_name: the agency's name as printed on letters and reports.
        agency_code: the short code of the first agency (``agency_*``, ``reconsideration_body``,
            ``court``, ``fee_*`` and ``template_dir`` seed that agency when the database is
            created or upgraded to 0007; afterwards agencies are data: ``disclosure agency``).
        agency_timezone: where "today" is decided (a scan at 23:30 UTC is the next day here).
        approaching_days: a reply due within this many working days is "approaching" (§9).
        correction_notice_warn_days: warn when this many working days remain to ask for a correction.
        correction_period_days: the period given to the applicant to correct (Art. 30).
        calendar_override: optional TOML file adding/removing holidays and make-up days.
        agency_prefix: 文号 prefix, e.g. 罗审依申 → 罗审依申答〔2026〕第12号.
        agency_address, agency_contact, agency_phone: the contact block of every letter.
        reconsideration_body, court: named in every reply's remedy paragraph (Art. 51).
        fee_scale: ``count`` (按件) or ``volume`` (按量), Fee Measures Art. 6.
        fee_payment: how to pay, printed on the fee notice.
        template_dir: folder whose files override the packaged letter templates by name.
        scan_interval_seconds: how often ``disclosure scheduler run`` scans for alerts.
        today: fixes "today" (demos, tests, replaying a day); otherwise the agency's date.
        backdate_working_days: a business date may lie at most this many working days before
            today; further back needs a supervisor and a reason (issue #8).
        agreed_due_max_days: an Art. 35 agreed date lies at most this many days after the
            decision.
        duplicate_window_days: an application with the same applicant and description as
            one received within this many days is flagged as a possible repeat.
        number_with_di: print 第 before the 文号 sequence number (local custom; GB/T 9704
            prints none).
        session_idle_minutes: a web session unused this long is ended (sign in again).
        secure_cookies: mark the session cookie ``Secure`` (set it behind HTTPS).
        sign_in_attempts_per_minute: sign-in attempts one client address may make a minute.
        smtp_host: the mail server of the daily digest; empty (the default) sends no e-mail.
        smtp_port, smtp_tls, smtp_sender, smtp_user, smtp_password: how to reach it (TLS:
            ``none``, ``starttls`` or ``ssl``; no login without ``smtp_user``).
        digest_hour: the hour (agency time) the scheduler sends each user's digest.
        audit_key: the HMAC key of the trail (``disclosure.keys``); if empty, the key file.
        audit_key_file: the key ring file; by default ``audit.keys`` in the data folder.
        checkpoint_dir: the append-only folder every checkpoint's root is written to, outside
            the database; by default ``checkpoints`` in the data folder.
        public_url: the workbench's address, linked from the digest.
    """

    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    agency_name: str = Field(default="示例市审计局", min_length=2, max_length=60)
    agency_code: str = Field(default="audit", pattern=r"^[a-z][a-z0-9-]{1,19}$")
    agency_timezone: str = "Asia/Shanghai"
    approaching_days: int = Field(default=5, ge=1, le=20)
    correction_notice_warn_days: int = Field(default=2, ge=0, le=7)
    correction_period_days: int = Field(default=15, ge=1, le=60)
    calendar_override: Path | None = None
    agency_prefix: str = Field(default="示审依申", min_length=1, max_length=20)
    agency_address: str = Field(default="示例市人民路1号", min_length=1, max_length=100)
    agency_contact: str = Field(default="王晓梅", min_length=1, max_length=30)
    agency_phone: str = Field(default="0591-12345678", min_length=1, max_length=30)
    reconsideration_body: str = Field(default="示例市人民政府", min_length=2, max_length=60)
    court: str = Field(default="示例市人民法院", min_length=2, max_length=60)
    fee_scale: FeeScale = FeeScale.BY_VOLUME
    fee_payment: str = Field(
        default="请持本通知书到本机关财务室缴纳，或通过非税收入统一缴款码缴纳",
        min_length=1,
        max_length=200,
    )
    template_dir: Path | None = None
    scan_interval_seconds: int = Field(default=600, ge=1, le=86400)
    today: date | None = None
    backdate_working_days: int = Field(default=3, ge=0, le=20)
    agreed_due_max_days: int = Field(default=365, ge=1, le=730)
    duplicate_window_days: int = Field(default=30, ge=0, le=366)
    number_with_di: bool = False
    session_idle_minutes: int = Field(default=30, ge=5, le=720)
    secure_cookies: bool = False
    sign_in_attempts_per_minute: int = Field(default=10, ge=1, le=1000)
    smtp_host: str = Field(default="", max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_sender: str = Field(default="disclosure@localhost", pattern=r"^[^@\s]+@[^@\s]+$")
    smtp_user: str = Field(default="", max_length=254)
    # A secret: never printed (pydantic shows it as **********).
    smtp_password: SecretStr = SecretStr("")
    digest_hour: int = Field(default=8, ge=0, le=23)
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://\S+$")
    # A secret: never printed (pydantic shows it as **********).
    audit_key: SecretStr = SecretStr("")
    audit_key_file: Path = Field(default_factory=lambda: default_data_dir() / "audit.keys")
    checkpoint_dir: Path = Field(default_factory=lambda: default_data_dir() / "checkpoints")

    # The calendar built for this object, with the override path and content it came from.
    _calendar: tuple[Path | None, bytes | None, WorkingCalendar] | None = PrivateAttr(None)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("只支持 sqlite:/// 或 postgresql+psycopg:// 地址")
        if value.startswith("postgresql:"):  # psycopg 3 is the driver we ship
            value = "postgresql+psycopg:" + value.removeprefix("postgresql:")
        try:
            url = make_url(value)
            url.port  # noqa: B018 — parses the port, which make_url leaves for later
        except (ArgumentError, ValueError):
            raise ValueError("地址格式无效（例如 sqlite:///disclosure.db）") from None
        if url.get_backend_name() == "sqlite":
            if not url.database:
                raise ValueError("SQLite 地址须给出文件路径（例如 sqlite:///disclosure.db）")
            path = Path(url.database)
            if url.database != ":memory:" and not url.database.startswith("file:"):
                if not path.expanduser().is_absolute():  # never depend on the current folder
                    absolute = str(path.expanduser().absolute())
                    value = url.set(database=absolute).render_as_string(hide_password=False)
        return value

    @field_validator("agency_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知时区 {value!r}（例如 Asia/Shanghai）") from None
        return value

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Read the environment; a bad value becomes a ConfigurationError naming the variable."""
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "?"
            env = f"DISCLOSURE_{name.upper()}"
            raise ConfigurationError(
                field=env,
                message=f"配置项 {env}（{_LABELS.get(name, name)}）无效：{_chinese(first, name)}",
            ) from None

    def agency_today(self) -> date:
        """Today where the agency is (a scan at 23:30 UTC already counts the next day)."""
        if self.today is not None:
            return self.today
        return datetime.now(ZoneInfo(self.agency_timezone)).date()

    @cached_property
    def audit_keys(self) -> AuditKeys:
        """The trail's key ring, read (or, the first time, created) once for this object.

        Raises:
            ConfigurationError: the key is too short or the key file is unusable.
        """
        return load_keys(self.audit_key.get_secret_value(), self.audit_key_file)

    @cached_property
    def rules(self) -> RuleSet:
        return RuleSet(correction_period_days=self.correction_period_days)

    @property
    def calendar(self) -> WorkingCalendar:
        """The working calendar, built once for this object (and its override file's content).

        Without an override file, the first use builds it and every later use returns that
        object. With one, each use re-reads the file (it is small) and rebuilds only if its
        content changed, so an office that edits the file in place sees it applied by the
        next scan of a long-running process, without a restart.

        Raises:
            ConfigurationError: the override file is missing, unreadable or invalid.
        """
        from disclosure.calendar_source import build_calendar, read_override

        override = self.calendar_override
        content = read_override(override)
        built = self._calendar
        if built is None or built[:2] != (override, content):
            built = (override, content, build_calendar(override, content))
            self._calendar = built
        return built[2]


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _chinese(error: ErrorDetails, name: str) -> str:
    """Pydantic's English message for one error, in Chinese (our own validators already are)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":  # raised by our validators, in Chinese
        return str(error["msg"]).removeprefix("Value error, ")
    # The URL may carry a password: never echo it.
    got = "" if name in _SECRET_SETTINGS else f"（收到“{_shown(error['input'])}”）"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"须为整数{got}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "?")
        words = {"greater_than_equal": "不小于", "greater_than": "大于",
                 "less_than_equal": "不大于", "less_than": "小于"}[kind]  # fmt: skip
        return f"须{words} {bound}{got}"
    if kind == "string_too_short":
        return f"至少须有 {ctx.get('min_length', '?')} 个字符{got}"
    if kind == "string_too_long":
        return f"至多 {ctx.get('max_length', '?')} 个字符（现有 {len(str(error['input']))} 个）"
    if kind in ("bool_parsing", "bool_type"):
        return f"须为 true 或 false（也可写 1/0、yes/no、on/off）{got}"
    if kind.startswith(("date", "datetime")):
        return f"须为有效日期，格式 YYYY-MM-DD（例如 2026-11-24）{got}"
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace(" or ", "、").replace(", ", "、")
        return f"须为以下之一：{expected}{got}"
    if kind == "missing":
        return "缺少此项，必须设置"
    if kind in ("path_type", "path_parsing"):
        return f"须为有效的文件路径{got}"
    if kind in ("string_type", "string_unicode"):
        return f"须为文字{got}"
    return f"取值无效{got}"
