"""The ``disclosure`` command line: parses arguments, calls a service, prints Chinese output.

Every ``DisclosureError`` and every usage error ends as a one-line Chinese message on stderr
with exit code 2; nothing here prints a traceback to a clerk.
"""

from __future__ import annotations

import calendar as month_calendar
import errno
import inspect
import json
import os
import re
import sys
import typing
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Annotated, Any
from zoneinfo import ZoneInfo

import typer
import typer.rich_utils
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from disclosure.config import Settings
from disclosure.errors import DisclosureError, RuleViolation
from disclosure.files import write_private
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import (
    APPLICANT_KIND_LABELS,
    CHANNEL_LABELS,
    FIELD_LABELS,
    ID_TYPE_LABELS,
    parse_date,
)
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.states import (
    OUTCOMES,
    ROLE_LABELS,
    STATE_LABELS,
    State,
    parse_state,
)
from disclosure.workflow.text import printable
from disclosure.workflow.triggers import TRIGGERS, TRIGGERS_BY_NAME, Trigger, parse_input

#: Width for output that is not a terminal (pipes, logs, ``make run``) and no COLUMNS says
#: otherwise: wide enough for the tables and the option lists, instead of Rich's 80.
PIPED_WIDTH = 140


def _width(stream: IO[str]) -> int | None:
    """None on a terminal (Rich follows COLUMNS or the terminal's size); else COLUMNS or 140."""
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


# emoji=False: ":smile:" in an applicant's name stays text.
out = Console(highlight=False, emoji=False, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, emoji=False, width=_width(sys.stderr))
# ``--help`` is drawn by Typer's own Rich console: give it the same width.
typer.rich_utils.MAX_WIDTH = _width(sys.stdout)
_CONTEXT = {"max_content_width": _width(sys.stdout) or 200}

app = typer.Typer(
    help="政府信息依申请公开办理系统 disclosure",
    no_args_is_help=True,
    add_completion=False,
    context_settings=_CONTEXT,
)
db_app = typer.Typer(help="数据库结构（Alembic 迁移）", no_args_is_help=True)
user_app = typer.Typer(help="用户与角色", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历", no_args_is_help=True)
case_app = typer.Typer(help="案件办理", no_args_is_help=True)
audit_app = typer.Typer(help="审计轨迹", no_args_is_help=True)
letter_app = typer.Typer(help="文书：查看、打印、批量导出", no_args_is_help=True)
scheduler_app = typer.Typer(help="期限提醒调度（APScheduler）", no_args_is_help=True)
alerts_app = typer.Typer(help="期限提醒：列表与日历订阅", invoke_without_command=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(calendar_app, name="calendar")
app.add_typer(case_app, name="case")
app.add_typer(audit_app, name="audit")
app.add_typer(letter_app, name="letter")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(alerts_app, name="alerts")

# -- text from users, made safe to print --------------------------------------------------

#: Characters that would act on the terminal or reorder what a reader sees: C0/C1 controls
#: (ESC starts an ANSI sequence), DEL, bidi overrides and isolates, zero-width characters,
#: line and paragraph separators.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: object, *, multiline: bool = False) -> str:
    """``value`` as text that cannot act on the terminal: every control character (and every
    bidi or zero-width character) is shown as a ``\\x1b``-style escape. A multi-line text
    (a description, a reason) keeps its line breaks and tabs."""

    def show(match: re.Match[str]) -> str:
        ch = match.group()
        return ch if multiline and ch in "\n\t" else _visible(ch)

    return _UNSAFE.sub(show, str(value))


def safe(value: object, *, multiline: bool = False) -> str:
    """User-supplied text for a Rich markup string or table cell: inert and shown literally."""
    return escape(plain(value, multiline=multiline))


AsUser = Annotated[
    str | None, typer.Option("--as", help="办理人用户名（或环境变量 DISCLOSURE_USER）")
]


#: The Chinese name of every field key an error can carry, used at the CLI edge so that no
#: message names an English key. Keys of the application (Art. 29) come from
#: ``workflow.application.FIELD_LABELS``; their messages already begin with the label.
FIELD_NAMES: dict[str, str] = {
    **FIELD_LABELS,
    "on": "办理日期",
    "until": "另行确定的答复期限",
    "days": "延长天数",
    "reason": "理由",
    "note": "理由",
    "reason_code": "理由代码",
    "outcome": "答复类型",
    "actor": "办理人",
    "item": "补正事项",
    "items": "补正事项",
    "party": "第三方或机关名称",
    "detail": "答复内容",
    "refer_to": "负责机关或渠道",
    "pages": "页数",
    "case": "案件编号",
    "case_id": "案件编号",
    "state": "状态",
    "format": "格式",
    "kind": "文书类别",
    "out": "输出文件",
    "--out": "输出文件",
    "--from-file": "文件",
    "--json": "文件",
    "public_interest": "公共利益理由",
    "today": "扫描日期",
    "year": "年份",
    "role": "角色",
    "due_within": "临近天数",
    "page": "页码",
    "display_name": "姓名",
    "backdate_reason": "补录理由",
    "opinion": "第三方意见",
    "consent": "申请人书面同意情况",
    "expect_version": "期望的案件版本号",
    "offset": "起始位置",
    "encoding": "文件编码",
}
#: Service fields a command-line flag sets: every trigger input, the date and the version.
_FLAGGED_FIELDS = frozenset(
    name for t in TRIGGERS for name in t.input.model_fields if name != "trigger"
) | {"on", "expected_version"}
#: Keys whose messages always name the field themselves (no label in parentheses needed).
_SELF_NAMED = frozenset(FIELD_LABELS) | {"display_name"}


def error_line(exc: DisclosureError) -> str:
    """The Chinese error line (without the 错误 prefix' markup): the field by its label, never
    by its key; left out when the message already names it. User text in it is escaped."""
    message = exc.message
    field = exc.field
    label = FIELD_NAMES.get(field or "")
    if field and label and message.startswith(f"{field}："):
        message = label + message[len(field) :]  # "on：…" → "办理日期：…"
    where = ""
    if field in _FLAGGED_FIELDS:  # the service names its field; say which flag sets it
        where = (
            f"（{flag(field)}）" if not label or label in message else f"（{label} {flag(field)}）"
        )
    elif field and label and field not in _SELF_NAMED and label not in message:
        where = f"（{label}）"
    hint = _CLI_HINTS.get((field or "", getattr(exc, "rule", "")), "")
    if hint and "--as" not in message:
        message += f"（{hint}）"
    return f"[red]错误{where}：[/red]{safe(message)}"


#: How to fix an error on the command line, where the service's message is transport-neutral.
_CLI_HINTS = {("actor", "required"): "用 --as 用户名，或设置环境变量 DISCLOSURE_USER"}


#: ``register`` and ``recompute_limits`` are not workflow transitions but appear in the trail.
_STEP_LABELS = {"register": "登记申请", "recompute_limits": "按新日历重算期限"}
_SYSTEM_LABEL = "系统"


def step_label(trigger: str) -> str:
    spec = TRIGGERS_BY_NAME.get(trigger)
    return spec.label if spec else _STEP_LABELS.get(trigger, trigger)


#: ``--state`` takes a state's code (``handling``) or its Chinese label (``办理中``):
#: ``workflow.states.parse_state`` reads both, for ``case list`` and ``letter batch`` alike.
STATE_HELP = " / ".join(f"{s.value}（{STATE_LABELS[s]}）" for s in State)


def _settings() -> Settings:
    return Settings.from_env()


def _open() -> App:
    return App.open(_settings())


def _today(settings: Settings) -> date:
    """Today in the agency's time zone (DISCLOSURE_TODAY fixes it for demos and tests)."""
    return settings.agency_today()


def _label(labels: Mapping[Any, str], value: str) -> str:
    return labels.get(value, value)


def _actor(name: str | None) -> str | None:
    return name or os.environ.get("DISCLOSURE_USER") or None


def _date_option(value: str | None, field: str, default: date) -> date:
    return default if value is None else parse_date(value, field)


# -- db ----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本（首次使用时自动执行）。"""
    from disclosure.models.db import (
        current_revision,
        describe_database,
        ensure_schema,
        head_revision,
        make_engine,
    )

    settings = _settings()
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    ensure_schema(engine, create=True)
    head = head_revision()
    out.print(f"数据库：{safe(describe_database(settings.database_url))}")
    if before == head:
        out.print(f"数据库结构已是最新版本（{head}）。")
    else:
        out.print(f"数据库结构已从 {before or '空库'} 升级到 {head}。")


@db_app.command("current")
def db_current() -> None:
    """显示数据库结构的当前版本。"""
    from disclosure.models.db import current_revision, head_revision, make_engine

    engine = make_engine(_settings().database_url)
    out.print(f"当前版本：{current_revision(engine) or '空库'}；最新版本：{head_revision()}")


# -- users -------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="用户名（--as 使用）")],
    role: Annotated[str, typer.Option(help="clerk 经办人 / supervisor 负责人 / auditor 审计")],
    display_name: Annotated[str, typer.Option(help="姓名")] = "",
) -> None:
    """新增用户。"""
    from disclosure.services import cases

    cases.add_user(_open(), name, role, display_name)
    out.print(f"已新增用户 {safe(name)}（{safe(_label(ROLE_LABELS, role))}）。")


@user_app.command("list")
def user_list() -> None:
    """列出用户。"""
    from disclosure.services import cases

    table = Table("用户名", "姓名", "角色")
    for user in cases.list_users(_open()):
        table.add_row(
            safe(user.name), safe(user.display_name), safe(_label(ROLE_LABELS, user.role))
        )
    out.print(table)


# -- calendar ----------------------------------------------------------------------------


@calendar_app.command("show")
def calendar_show(year: Annotated[int, typer.Argument(help="年份，如 2026")]) -> None:
    """按月显示工作日历：节假日（休）、调休上班日（班）及其来源。"""
    cal = _settings().calendar
    if not 2000 <= year <= 2099:
        raise RuleViolation("year", "range", f"年份须在2000至2099之间，实为{year}")
    special = {s.day: s for s in cal.special_days(year)}
    out.print(f"[bold]{year}年工作日历[/bold]  [red]休[/red]=法定节假日  [blue]班[/blue]=调休上班")
    if year > cal.coverage_year:
        out.print(
            f"[yellow]注意：{year}年节假日尚未公布（日历覆盖至{cal.coverage_year}年），"
            "仅按周末计算，期限为临时结果。[/yellow]"
        )
    for month in range(1, 13):
        grid = Table(title=f"{month}月", show_edge=False, pad_edge=False)
        for head in ("一", "二", "三", "四", "五", "六", "日"):
            grid.add_column(head, justify="right", width=4)
        for week in month_calendar.Calendar().monthdayscalendar(year, month):
            cells = []
            for day_number in week:
                if day_number == 0:
                    cells.append("")
                    continue
                day = date(year, month, day_number)
                weekend, working = day.weekday() >= 5, cal.is_working_day(day)
                if not working and (day in special or not weekend):
                    cells.append(f"[red]{day_number}休[/red]")
                elif working and weekend:
                    cells.append(f"[blue]{day_number}班[/blue]")
                elif not working:
                    cells.append(f"[dim]{day_number}[/dim]")
                else:
                    cells.append(str(day_number))
            grid.add_row(*cells)
        out.print(grid)
    table = Table("日期", "类别", "名称", "来源", title=f"{year}年特殊日期")
    for item in special.values():
        if not item.is_working:
            kind = "[red]节假日[/red]"
        elif item.day.weekday() >= 5:
            kind = "[blue]调休上班[/blue]"
        else:
            kind = "工作日"
        table.add_row(item.day.isoformat(), kind, safe(item.name), safe(item.source))
    out.print(table)


# -- deadlines ---------------------------------------------------------------------------


Encoding = Annotated[
    str | None,
    typer.Option(help="文件编码：默认 UTF-8（可带 BOM）；GBK 文件用 gb18030"),
]


@app.command("deadline")
def deadline(
    json_file: Annotated[Path, typer.Option("--json", help="期限算例文件（deadlines.json 格式）")],
    encoding: Encoding = None,
) -> None:
    """按工作流所用的同一函数计算答复期限，输出 JSON 列表（忽略输入中的 due）。"""
    from disclosure.input_files import read_json_file
    from disclosure.services.deadline_file import compute_data

    settings = _settings()
    data = read_json_file(json_file, "--json", encoding=encoding)
    results, problems = compute_data(data, settings.calendar, settings.rules)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    for problem in problems:
        err.print(f"第{problem['index']}项 {safe(problem['field'])}：{safe(problem['message'])}")
    if problems:
        raise typer.Exit(2)


# -- cases -------------------------------------------------------------------------------

# Items are separated by " / ": Rich wraps long help only at spaces (and cuts a line of
# Chinese without any), so every long help text needs them.
_REGISTER_HELP = {
    "applicant_kind": "申请人类型："
    + " / ".join(f"{k.value}={v}" for k, v in APPLICANT_KIND_LABELS.items()),
    "id_type": "身份证明类型：" + " / ".join(f"{k.value}={v}" for k, v in ID_TYPE_LABELS.items()),
    "channel": "提交方式：" + " / ".join(f"{k.value}={v}" for k, v in CHANNEL_LABELS.items()),
}


@case_app.command("register")
def case_register(
    as_user: AsUser = None,
    from_file: Annotated[Path | None, typer.Option(help="从 JSON 文件读取全部字段")] = None,
    encoding: Encoding = None,
    applicant_kind: Annotated[
        str | None, typer.Option(help=_REGISTER_HELP["applicant_kind"])
    ] = None,
    name: Annotated[str | None, typer.Option(help="申请人姓名或名称")] = None,
    id_type: Annotated[str | None, typer.Option(help=_REGISTER_HELP["id_type"])] = None,
    id_number: Annotated[str | None, typer.Option(help="身份证明号码")] = None,
    phone: Annotated[str | None, typer.Option(help="联系电话")] = None,
    email: Annotated[str | None, typer.Option(help="电子邮箱")] = None,
    address: Annotated[str | None, typer.Option(help="通信地址")] = None,
    postal_code: Annotated[str | None, typer.Option(help="邮政编码")] = None,
    description: Annotated[
        str | None, typer.Option(help="所需信息的名称、文号或特征性描述")
    ] = None,
    delivery_form: Annotated[
        str | None, typer.Option(help="载体形式：paper 纸质 / electronic 电子")
    ] = None,
    delivery_method: Annotated[
        str | None, typer.Option(help="获取方式：pickup 自取 / post 邮寄 / email / online")
    ] = None,
    channel: Annotated[str | None, typer.Option(help=_REGISTER_HELP["channel"])] = None,
    received_on: Annotated[
        str | None, typer.Option(help="收到申请日期 YYYY-MM-DD（第三十一条）")
    ] = None,
) -> None:
    """登记一件政府信息公开申请（第二十九条、第三十一条的全部内容）。"""
    from disclosure.input_files import read_json_object
    from disclosure.services import cases

    data: dict[str, Any] = {}
    if from_file is not None:
        data.update(read_json_object(from_file, "--from-file", encoding=encoding))
    options = {
        "applicant_kind": applicant_kind,
        "name": name,
        "id_type": id_type,
        "id_number": id_number,
        "phone": phone,
        "email": email,
        "address": address,
        "postal_code": postal_code,
        "description": description,
        "delivery_form": delivery_form,
        "delivery_method": delivery_method,
        "channel": channel,
        "received_on": received_on,
    }
    data.update({k: v for k, v in options.items() if v is not None})
    service = _open()
    today = _today(service.settings)
    case_id = cases.register(service, data, _actor(as_user), today)
    view = cases.get_case(service, case_id)
    out.print(
        f"已登记案件 [bold]{case_id}[/bold]，"
        f"申请人 {safe(view.applicant_name)}（{safe(view.id_masked)}）。"
    )
    for limit in view.limits:
        provisional = "（临时）" if limit.provisional else ""
        out.print(f"  {safe(limit.label)}：{cn_date(limit.due)}{provisional}")
    if view.duplicate_of is not None:
        err.print(
            f"[yellow]注意：同一申请人近期已提交内容相同的申请（案件 {view.duplicate_of}），"
            "本件已记录关联；如确属重复申请，可按“不予处理—重复申请”答复（第三十六条第六项）。"
            "[/yellow]"
        )


CaseId = Annotated[int, typer.Argument(help="案件编号", min=1, max=2**31 - 1)]
On = Annotated[str | None, typer.Option(help="办理日期 YYYY-MM-DD，默认今天")]
Reason = Annotated[str, typer.Option(help="理由或备注（记入轨迹）")]
Expect = Annotated[int | None, typer.Option(help="期望的案件版本号（防止覆盖他人修改）")]
BackdateReason = Annotated[
    str,
    typer.Option(help="补录理由：办理日期早于今天超过规定工作日数时必填（须由负责人办理）"),
]

OUTCOMES_HELP = "答复类型：" + " / ".join(f"{o.code}={o.label}" for o in OUTCOMES.values())


_P = inspect.Parameter
_EMPTY = inspect.Parameter.empty


def _option(name: str, annotation: Any, default: Any = _EMPTY) -> inspect.Parameter:
    return _P(name, _P.KEYWORD_ONLY, annotation=annotation, default=default)


#: CLI flags that differ from their field's name (a repeated ``--item`` fills ``items``).
_FLAG_FOR_FIELD = {"items": "item", "expected_version": "expect_version", "actor": "as"}
_COMMON_FIELDS = ("trigger", "reason", "backdate_reason")


def flag(field: str) -> str:
    """The command-line flag that sets a service field: ``refer_to`` → ``--refer-to``."""
    return "--" + _FLAG_FOR_FIELD.get(field, field).replace("_", "-")


def _bounds(info: Any) -> tuple[int | None, int | None]:
    low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
    return low, high


def _trigger_option(name: str, info: Any) -> inspect.Parameter:
    """A trigger input field as a Typer option: its title (and description) as help."""
    help_text = info.description or info.title or name
    cli_name = _FLAG_FOR_FIELD.get(name, name)
    kinds = set(typing.get_args(info.annotation)) or {info.annotation}
    if info.annotation == tuple[str, ...]:
        option = typer.Option(flag(name), help=f"{help_text}（可重复）")
        annotation: Any = Annotated[list[str] | None, option]
    elif int in kinds:
        low, high = _bounds(info)
        annotation = Annotated[int | None, typer.Option(help=help_text, min=low, max=high)]
    else:  # text and dates: the input model parses them, full-width digits included
        annotation = Annotated[str | None, typer.Option(help=help_text)]
    required = info.is_required()
    return _option(cli_name, annotation, _EMPTY if required else None)


def _make_trigger_command(trigger: Trigger) -> Callable[..., None]:
    def command(**options: Any) -> None:
        from disclosure.services import cases

        fields = {
            name: options.get(_FLAG_FOR_FIELD.get(name, name))
            for name in trigger.input.model_fields
            if name != "trigger"
        }
        service = _open()
        today = _today(service.settings)
        change = cases.act(
            service, options["case_id"],
            parse_input(trigger.name, {k: v for k, v in fields.items() if v is not None}),
            actor=_actor(options["as_user"]), on=_date_option(options["on"], "on", today),
            today=today, expected_version=options["expect_version"],
        )  # fmt: skip
        step = change.step
        out.print(
            f"案件 {options['case_id']}：{trigger.label}，"
            f"{STATE_LABELS[step.before]} → {STATE_LABELS[step.after]}"
        )
        if step.limits.reply is not None and step.after not in (State.REPLIED, State.ARCHIVED):
            out.print(f"  答复期限：{safe(step.limits.reply.explanation)}")
        if change.fee is not None:
            out.print(
                f"  应缴信息处理费：人民币{change.fee.amount:.2f}元"
                f"（{safe(change.fee.basis.splitlines()[0])}）"
            )
        if step.details.get("backdated"):
            out.print(
                f"  补录：办理日期早于今天，理由“{safe(step.details['backdate_reason'])}”已记入轨迹"
            )
        for letter in change.letters:
            out.print(
                f"  已生成文书：{safe(letter.number)}"
                f"（disclosure letter print {options['case_id']} {safe(letter.kind)}）"
            )

    extra = [
        _trigger_option(name, info)
        for name, info in trigger.input.model_fields.items()
        if name not in _COMMON_FIELDS
    ]
    common = [
        _P("case_id", _P.POSITIONAL_OR_KEYWORD, annotation=CaseId),
        *extra,
        _option("as_user", AsUser, None),
        _option("on", On, None),
        _option("reason", Reason, ""),
        _option("backdate_reason", BackdateReason, ""),
        _option("expect_version", Expect, None),
    ]
    command.__signature__ = inspect.Signature(common)  # type: ignore[attr-defined]
    command.__doc__ = f"{trigger.label}。"
    return command


for _trigger in TRIGGERS:
    case_app.command(_trigger.name.replace("_", "-"))(_make_trigger_command(_trigger))


#: Time zones whose local time Chinese readers call 北京时间.
_BEIJING_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})


def _zone_label(zone: str) -> str:
    return "北京时间" if zone in _BEIJING_ZONES else zone


def _business_date(payload: Mapping[str, Any]) -> str:
    """The step's business date (``on``; ``received_on`` for a registration), 「补录」 if back-dated."""
    on = payload.get("on") or payload.get("received_on")
    if not isinstance(on, str):
        return "—"
    try:
        shown = date.fromisoformat(on).isoformat()
    except ValueError:
        shown = safe(on)
    return shown + ("「补录」" if payload.get("backdated") is True else "")


def _payload(raw: str) -> Mapping[str, Any]:
    try:
        loaded = json.loads(raw)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _actor_label(name: str, display_names: Mapping[str, str]) -> str:
    if name == "system":
        return _SYSTEM_LABEL
    display = display_names.get(name)
    return safe(f"{display}（{name}）" if display and display != name else name)


@case_app.command("show")
def case_show(case_id: CaseId) -> None:
    """显示案件：状态、每个期限及其计算说明、完整轨迹。"""
    from disclosure.services import cases
    from disclosure.workflow.machine import available_triggers

    service = _open()
    view = cases.get_case(service, case_id)
    out.print(
        f"[bold]案件 {view.id}[/bold]  状态：[bold]{STATE_LABELS[view.state]}[/bold]"
        f"{'（计时暂停）' if view.paused else ''}  版本：{view.version}"
    )
    out.print(
        f"申请人：{safe(view.applicant_name)}"
        f"（{safe(_label(APPLICANT_KIND_LABELS, view.applicant_kind))}，"
        f"{safe(_label(ID_TYPE_LABELS, view.id_type))} {safe(view.id_masked)}）"
        f"  联系方式：{safe(view.contact)}"
    )
    channel = safe(_label(CHANNEL_LABELS, view.channel))
    out.print(f"收到日期：{cn_date(view.received_on)}（{channel}）")
    out.print(f"申请内容：{safe(view.description, multiline=True)}")
    if view.duplicate_of is not None:
        out.print(f"[yellow]可能为重复申请：与案件 {view.duplicate_of} 的申请人和内容相同[/yellow]")
    withdrawn = any(event.trigger == "withdraw" for event in view.trail)
    if view.outcome:
        out.print(
            f"答复类型：{_outcome_line(view.outcome, view.outcome_reason, withdrawn)}"
            f"  拟稿：{safe(view.drafted_by or '—')}  审核：{safe(view.approved_by or '—')}"
        )
    if view.reply is not None:
        margin = view.reply.margin
        timing = (
            f"提前{margin}个工作日" if margin > 0 else "于期限当日" if margin == 0
            else f"[red]超期{-margin}个工作日[/red]"
        )  # fmt: skip
        out.print(
            f"答复日期：{cn_date(view.reply.replied_on)}（答复期限{cn_date(view.reply.due)}，{timing}）"
        )
    if view.fee is not None:
        paid = f"，已于{cn_date(view.fee.paid_on)}缴纳" if view.fee.paid_on else "，尚未缴纳"
        out.print(
            f"信息处理费：人民币{view.fee.amount:.2f}元（{safe(view.fee.basis.splitlines()[0])}；"
            f"{cn_date(view.fee.issued_on)}发出收费通知{paid}）"
        )
    limits = Table("期限", "届满日", "计算说明", title="期限")
    for limit in view.limits:
        due = cn_date(limit.due) + ("（临时）" if limit.provisional else "")
        limits.add_row(safe(limit.label), due, safe(limit.explanation))
    out.print(limits)
    zone_name = service.settings.agency_timezone
    zone = ZoneInfo(zone_name)
    display_names = {user.name: user.display_name for user in cases.list_users(service)}
    trail = Table(
        "#", f"记录时间（{_zone_label(zone_name)}）", "办理日期", "办理人", "操作", "状态变化",
        "备注", title="轨迹",
    )  # fmt: skip
    for event in view.trail:
        before = _state_label(event.from_state) if event.from_state else "—"
        trail.add_row(
            str(event.seq),
            _aware(event.at).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            _business_date(_payload(event.payload)),
            _actor_label(event.actor, display_names),
            safe(step_label(event.trigger)),
            f"{before} → {_state_label(event.to_state)}",
            safe(event.reason, multiline=True),
        )
    out.print(trail)
    from disclosure.services.letters import list_letters
    from disclosure.workflow.letters import KINDS, LetterKind

    with service.uow() as uow:
        letters = list_letters(uow.session, case_id)
    if letters:
        issued = "；".join(
            f"{safe(KINDS[LetterKind(x.kind)].title)} {safe(x.number)}" for x in letters
        )
        out.print(f"已发文书：{issued}")
    menu = "、".join(t.replace("_", "-") for t in available_triggers(view.state))
    out.print(f"可用操作：{menu or '无（已办结）'}")


def _outcome_line(outcome_code: str, reason_code: str | None, withdrawn: bool) -> str:
    """``不予公开 — 属于国家秘密（第十四条）``; a withdrawal reads as one, with no article."""
    from disclosure.workflow.letters import BASES

    outcome = OUTCOMES.get(outcome_code)
    if outcome is None:
        return safe(outcome_code)
    if withdrawn:
        return f"{outcome.label} — 申请人撤回申请"
    reason = outcome.reasons.get(reason_code or "", "")
    basis = BASES.get((outcome_code, reason_code or ""))
    article = f"（{basis.article}）" if basis else ""
    return f"{safe(outcome.label)} — {safe(reason)}{article}"


def _state_label(value: str) -> str:
    try:
        return STATE_LABELS[State(value)]
    except ValueError:
        return safe(value)


@case_app.command("list")
def case_list(
    state: Annotated[
        str | None, typer.Option(help=f"按状态筛选，代码或中文均可：{STATE_HELP}")
    ] = None,
    due_within: Annotated[
        int | None, typer.Option(help="答复期限在 N 个工作日内（未办结）", min=0, max=250)
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看已超期的未办结案件")] = False,
    limit: Annotated[int, typer.Option(help="每页条数", min=1, max=100000)] = 100,
    page: Annotated[int, typer.Option(help="第几页（从1起）", min=1, max=1_000_000)] = 1,
) -> None:
    """列出案件（身份证号已打码），分页显示并给出总数。"""
    from disclosure.services import cases

    code = parse_state(state).value if state is not None else None
    service = _open()
    today = _today(service.settings)
    offset = (page - 1) * limit
    total = cases.count_cases(service, today, state=code, due_within=due_within, overdue=overdue)
    rows = cases.list_cases(
        service, today, state=code, due_within=due_within, overdue=overdue,
        limit=limit, offset=offset,
    )  # fmt: skip
    out.print(_cases_table(rows, f"案件（今天 {cn_date(today)}）"))
    out.print(
        _page_line(
            total, offset, len(rows), page, limit, _list_command(code, due_within, overdue, limit)
        )
    )


def _list_command(state: str | None, due_within: int | None, overdue: bool, limit: int) -> str:
    """The ``case list`` command line that repeats the filters (for the next page)."""
    words = ["disclosure", "case", "list"]
    if state is not None:
        words += ["--state", state]
    if due_within is not None:
        words += ["--due-within", str(due_within)]
    if overdue:
        words.append("--overdue")
    if limit != 100:
        words += ["--limit", str(limit)]
    return " ".join(words)


def _page_line(total: int, offset: int, shown: int, page: int, limit: int, command: str) -> str:
    """共 1,234 件，显示第 1–100 件；下一页：disclosure case list --page 2"""
    if total == 0:
        return "共 0 件。"
    if shown == 0:
        pages = (total + limit - 1) // limit
        return f"共 {total:,} 件，第 {page} 页没有案件（共 {pages} 页）。"
    line = f"共 {total:,} 件，显示第 {offset + 1:,}–{offset + shown:,} 件"
    if offset + shown < total:
        return f"{line}；下一页：{command} --page {page + 1}"
    return f"{line}。"


def _days_left(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"[red]超期{-days}个工作日[/red]"
    return "[yellow]今天到期[/yellow]" if days == 0 else str(days)


def _cases_table(rows: list[Any], title: str) -> Table:
    table = Table(
        "编号", "状态", "申请人", "证件号", "收到日期", "答复期限", "剩余工作日", title=title
    )
    for row in rows:
        left = _days_left(row.working_days_left)
        due = (
            (cn_date(row.reply_due) + ("（临时）" if row.provisional else ""))
            if row.reply_due
            else "—"
        )
        table.add_row(
            str(row.id),
            STATE_LABELS[row.state],
            safe(row.applicant_name),
            safe(row.id_masked),
            row.received_on.isoformat(),
            due,
            left,
        )
    return table


@app.command("overview")
def overview() -> None:
    """负责人视图：各状态在办案件数，临近期限与已超期案件。"""
    from disclosure.services import cases

    service = _open()
    today = _today(service.settings)
    view = cases.overview(service, today)
    out.print(
        f"[bold]{safe(service.settings.agency_name)} 依申请公开办理情况[/bold]"
        f"（{cn_date(today)}，共{view.total}件）"
    )
    states = Table("状态", "件数", title="各状态案件")
    for state, count in view.by_state.items():
        states.add_row(STATE_LABELS[state], str(count))
    out.print(states)
    out.print(
        _cases_table(
            view.approaching,
            f"临近答复期限（{service.settings.approaching_days}个工作日内）：{len(view.approaching)}件",
        )
    )
    out.print(_cases_table(view.overdue, f"已超过答复期限：{len(view.overdue)}件"))


@app.command("outcomes")
def outcomes() -> None:
    """列出答复类型及理由代码（第三十六条至第三十九条）。"""
    table = Table("答复类型", "理由代码", "说明", "依据")
    for outcome in OUTCOMES.values():
        for code, text in outcome.reasons.items():
            table.add_row(f"{outcome.code}（{outcome.label}）", code, text, outcome.article)
    out.print(table)


# -- audit -------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    case: Annotated[int | None, typer.Option(help="只核验一个案件", min=1, max=2**31 - 1)] = None,
) -> None:
    """重新计算哈希链，指出第一个被改动或删除的事件。"""
    from disclosure.services.audit import verify_snapshot

    checked, breaks = verify_snapshot(_open().engine, case)
    if case is not None and checked == 0:
        raise RuleViolation("case", "exists", f"案件{case}不存在")
    if not breaks:
        out.print(f"[green]核验通过[/green]：{checked}件案件的轨迹完整，未发现改动。")
        return
    for item in breaks:
        err.print(f"[red]案件{item.case_id} 第{item.seq}条事件：{safe(item.problem)}[/red]")
    err.print(f"核验未通过：{len(breaks)}/{checked}件案件的轨迹被破坏。")
    raise typer.Exit(1)


# -- letters -----------------------------------------------------------------------------

Format = Annotated[str, typer.Option("--format", help="pdf / docx / html")]


def _check_format(fmt: str) -> str:
    from disclosure.letters.output import FORMATS

    if fmt not in FORMATS:
        raise RuleViolation("format", "one_of", f"格式“{fmt}”无效，可选：{'、'.join(FORMATS)}")
    return fmt


@letter_app.command("list")
def letter_list(case_id: CaseId) -> None:
    """列出案件已发出的文书。"""
    from disclosure.services.letters import list_letters
    from disclosure.workflow.letters import KINDS, LetterKind

    with _open().uow() as uow:
        letters = list_letters(uow.session, case_id)
    table = Table("类别", "文号", "发文日期", "发文人", "内容哈希", title=f"案件{case_id}的文书")
    for letter in letters:
        title = KINDS[LetterKind(letter.kind)].title
        table.add_row(safe(f"{title}（{letter.kind}）"), safe(letter.number),
                      letter.issued_on.isoformat(), safe(letter.issued_by),
                      safe(letter.content_sha256[:16]))  # fmt: skip
    out.print(table)


@letter_app.command("print")
def letter_print(
    case_id: CaseId,
    kind: Annotated[str, typer.Argument(help="文书类别（如 receipt、reply）或文号")],
    fmt: Format = "pdf",
    out_path: Annotated[Path | None, typer.Option("--out", help="输出文件，默认当前目录")] = None,
) -> None:
    """按发文时的内容重新打印一份文书。"""
    from disclosure.letters.output import render_format
    from disclosure.services.letters import find_letter

    _check_format(fmt)
    with _open().uow() as uow:
        letter = find_letter(uow.session, case_id, kind)
    path = out_path or Path(f"案件{case_id}_{letter.number}.{fmt}")
    if path.is_dir():
        path = path / f"案件{case_id}_{letter.number}.{fmt}"
    write_private(path, render_format(letter.html, fmt))
    out.print(f"已输出 {safe(letter.number)} → {safe(path)}")


@letter_app.command("batch")
def letter_batch(
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录")],
    state: Annotated[str, typer.Option(help=f"案件状态，代码或中文均可：{STATE_HELP}")],
    kind: Annotated[str | None, typer.Option(help="只导出一类文书，如 reply")] = None,
    fmt: Format = "pdf",
) -> None:
    """批量导出某一状态案件的文书（带进度条；失败逐件列出；中断不留半截文件）。"""
    from rich.progress import Progress

    from disclosure.letters.output import render_format
    from disclosure.services.letters import letters_in_state

    _check_format(fmt)
    from disclosure.workflow.letters import LetterKind

    if kind is not None and kind not in {k.value for k in LetterKind}:
        raise RuleViolation(
            "kind",
            "one_of",
            f"文书类别“{printable(kind)}”无效，可选：{'、'.join(k.value for k in LetterKind)}",
        )
    code = parse_state(state).value
    with _open().uow() as uow:
        letters = letters_in_state(uow.session, code, kind)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    done, failures = 0, []
    try:
        with Progress(console=err) as progress:
            task = progress.add_task("导出文书", total=len(letters))
            for letter in letters:
                try:
                    path = out_dir / f"案件{letter.case_id}_{letter.number}.{fmt}"
                    write_private(path, render_format(letter.html, fmt))
                    done += 1
                except Exception as exc:  # one bad letter must not stop the batch
                    failures.append((letter.number, _failure_reason(exc)))
                progress.advance(task)
    except KeyboardInterrupt:
        err.print(f"已中断：完成{done}份，未完成的文书没有留下文件。")
        raise typer.Exit(130) from None
    out.print(f"已导出 {done}/{len(letters)} 份文书到 {safe(out_dir)}")
    for number, problem in failures:
        err.print(f"[red]失败[/red] {safe(number)}：{safe(problem)}")
    if failures:
        raise typer.Exit(1)


# -- scheduler and alerts ----------------------------------------------------------------


@scheduler_app.command("run")
def scheduler_run() -> None:
    """在前台运行调度器：按间隔扫描期限并记录每次扫描的数量（Ctrl-C 停止）。"""
    import logging

    from disclosure.scheduler import run_forever

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    run_forever(_settings())


@scheduler_app.command("scan-once")
def scheduler_scan_once(
    today: Annotated[str | None, typer.Option(help="以该日为今天扫描 YYYY-MM-DD，默认今天")] = None,
) -> None:
    """立即扫描一次（不占用调度间隔），列出会提醒的案件及各类提醒的新增与解除数量。"""
    from disclosure.scheduler import node_name, run_scan
    from disclosure.services.alerts import holding_alerts
    from disclosure.workflow.alerts import CONDITIONS

    service = _open()
    real_today = _today(service.settings)
    day = _date_option(today, "today", real_today)
    dry_run = day != real_today  # replaying another day must not rewrite today's alerts
    outcome = run_scan(service, day, slot=None, node=node_name(), dry_run=dry_run)
    if outcome.counts is None:
        out.print(f"未扫描：{_SKIPPED.get(outcome.skipped or '', safe(outcome.skipped))}")
        return
    with service.uow() as uow:
        holding = holding_alerts(uow.session, service.settings, day)
    listed = Table("案件", "提醒", "期限", "申请人", "证件号",
                   title=f"{cn_date(day)} 会提醒的案件（{len(holding)}条）")  # fmt: skip
    for row in holding:
        listed.add_row(str(row.case_id), safe(row.condition.label), cn_date(row.limit_date),
                       safe(row.applicant), safe(row.id_masked))  # fmt: skip
    out.print(listed)
    counts = outcome.counts
    table = Table("提醒类别", "新增", title=f"{cn_date(day)} 期限扫描")
    for condition in CONDITIONS:
        table.add_row(condition.label, str(counts.by_condition.get(condition.key, 0)))
    out.print(table)
    out.print(
        f"新增 {counts.raised} 条，解除 {counts.cleared} 条，因日历更新重算 {counts.recomputed} 件。"
    )
    if dry_run:
        out.print(f"（以{cn_date(day)}为今天试算，未保存：当前提醒不变）")


#: Why ``run_scan`` skipped, in Chinese.
_SKIPPED = {
    "another node is scanning": "另一节点正在扫描",
    "this interval was already scanned": "本扫描间隔已扫描过",
}


@alerts_app.callback()
def alerts_list(
    ctx: typer.Context,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="查看人用户名（或环境变量 DISCLOSURE_USER）；按其角色显示"),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(help="视图：负责人默认看全部，可用 clerk 只看经办人视图；经办人只能看自己的"),
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="只看某类提醒（可重复），如 reply_overdue")
    ] = None,
) -> None:
    """列出未解除的期限提醒（申请人已打码）：负责人看全部；经办人看自己办理案件的答复期限
    提醒和待确认的操作。"""
    if ctx.invoked_subcommand is not None:
        return
    from disclosure.services.alerts import last_scan, open_alerts

    service = _open()
    today = _today(service.settings)
    with service.uow() as uow:
        rows = open_alerts(
            uow.session, service.settings, today, user=_actor(as_user), role=role, kinds=kind
        )
        latest = last_scan(uow.session)
    if latest is None:
        err.print(
            "[yellow]尚未扫描过期限：请运行 disclosure scheduler run（或 scan-once）[/yellow]"
        )
    elif (
        service.now() - _aware(latest)
    ).total_seconds() > 2 * service.settings.scan_interval_seconds:
        zone_name = service.settings.agency_timezone
        local = _aware(latest).astimezone(ZoneInfo(zone_name))
        err.print(
            f"[yellow]最近一次扫描在 {local:%Y-%m-%d %H:%M}（{_zone_label(zone_name)}），"
            "调度器可能已停止[/yellow]"
        )
    table = Table("案件", "提醒", "申请人", "证件号", "期限", "剩余工作日", "建议操作",
                  title=f"期限提醒（{cn_date(today)}，{len(rows)}条）")  # fmt: skip
    for row in rows:
        step = row.condition.proposed_step
        table.add_row(str(row.case_id), safe(row.condition.label), safe(row.applicant),
                      safe(row.id_masked), cn_date(row.limit_date),
                      _days_left(row.working_days_left),
                      f"case {step.replace('_', '-')} {row.case_id}（待确认）" if step else "")  # fmt: skip
    out.print(table)


@alerts_app.command("ics")
def alerts_ics(
    out_path: Annotated[Path, typer.Option("--out", help="输出 .ics 文件")] = Path(
        "disclosure.ics"
    ),
    days: Annotated[int, typer.Option(help="包含今后多少天的期限", min=1, max=366)] = 60,
) -> None:
    """导出 iCalendar 日历（负责人订阅即将到期的各项期限）。"""
    from disclosure.services.alerts import ics_feed

    service = _open()
    with service.uow() as uow:
        feed = ics_feed(uow.session, service.settings, _today(service.settings), days)
    write_private(out_path, feed)
    out.print(f"已写出 {feed.count(b'BEGIN:VEVENT')} 个期限 → {safe(out_path)}")


# -- demo --------------------------------------------------------------------------------


@app.command("demo")
def demo(
    cases_count: Annotated[
        int, typer.Option("--cases", help="演示案件数", min=1, max=100000)
    ] = 200,
) -> None:
    """载入演示数据（约200件，覆盖所有状态）；已载入则不重复。"""
    from rich.progress import Progress

    from disclosure.services.demo import load_demo

    service = App.open(_settings(), create=True)
    today = _today(service.settings)
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("载入演示案件", total=cases_count)
        created = load_demo(service, today, cases_count, lambda: progress.advance(task))
    if created:
        out.print(f"已载入 {created} 件演示案件（以 {cn_date(today)} 为今天）。")
    else:
        out.print("演示数据已存在，未重复载入。")


# -- entry point -------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_line(error: object) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _masked_url() -> str:
    try:
        return make_url(Settings.from_env().database_url).render_as_string(hide_password=True)
    except DisclosureError:
        return "?"


#: Arguments (positional parameters) by their Chinese names; options are named as typed.
_ARGUMENT_NAMES = {
    "case_id": "案件编号",
    "name": "用户名",
    "year": "年份",
    "kind": "文书类别或文号",
}


def _param_name(exc: Exception) -> str:
    """The parameter as the user knows it: the option as typed (``--days``) or the argument's
    Chinese name (案件编号)."""
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if param is not None and getattr(param, "param_type_name", "") == "argument":
        name = str(getattr(param, "name", "") or "")
        return _ARGUMENT_NAMES.get(name, FIELD_NAMES.get(name, "参数"))
    if isinstance(hint, str) and hint:
        return hint.strip("'\"")
    if isinstance(hint, list | tuple) and hint:
        return "/".join(str(h) for h in hint)
    opts = getattr(param, "opts", None) or []
    return "/".join(opts) or "参数"


def _bad_value(detail: str) -> str:
    """Click's reason for refusing a value, in Chinese (no English library text)."""
    bound = re.search(r"(greater|less) than or equal to (-?\d+)", detail)
    if bound:
        return f"须{'不小于' if bound.group(1) == 'greater' else '不大于'}{bound.group(2)}"
    in_range = re.search(r"not in the range (-?\d+)?(<=|<)?x(<=|<|>=|>)?(-?\d+)?", detail)
    if in_range:
        low, high = in_range.group(1), in_range.group(4)
        if in_range.group(3) in (">=", ">"):  # "x>=1"
            low, high = in_range.group(4), None
        parts = [f"不小于{low}" if low else "", f"不大于{high}" if high else ""]
        return "须" + "且".join(p for p in parts if p)
    if "integer" in detail:
        return "须为整数"
    if "float" in detail or "number" in detail:
        return "须为数字"
    if "boolean" in detail:
        return "须为 true 或 false"
    return "不是可接受的值"


def _usage_message(exc: typer.TyperException) -> str:
    """Click's usage errors, in Chinese, naming the parameter as the user typed it.

    The result is markup: user tokens in it are escaped.
    """
    kind = type(exc).__name__
    message = str(getattr(exc, "message", "") or "")
    if kind == "MissingParameter":
        return f"缺少必填参数 {safe(_param_name(exc))}"
    if kind == "NoSuchOption":
        name = str(getattr(exc, "option_name", ""))
        if re.fullmatch(r"-\d+", name):  # Click reads "-1" as an option, not a number
            return (
                f"“{safe(name)}”不是有效的参数值：案件编号、年份、页数须为正整数，"
                "文书类别或文号不能以“-”开头"
            )
        text = f"没有选项 {safe(name)}"
        possible = sorted(getattr(exc, "possibilities", None) or [])
        return text + (f"，是否想用 {safe('、'.join(possible))}？" if possible else "")
    if kind == "BadParameter":
        return f"参数 {safe(_param_name(exc))} 的值无效：{_bad_value(message)}"
    if kind == "BadOptionUsage":
        option = safe(getattr(exc, "option_name", ""))
        if "does not take a value" in message:
            return f"选项 {option} 不接受值"
        if "requires" in message:
            return f"选项 {option} 缺少取值"
        return f"选项 {option} 的用法有误"
    extra = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", message)
    if extra:
        return f"多余的参数：{safe(extra.group(1))}"
    command = re.fullmatch(r"No such command '(.*)'\.", message)
    if command:
        ctx = getattr(exc, "ctx", None)
        group = getattr(ctx, "command", None)
        choices = group.list_commands(ctx) if ctx is not None and group is not None else []
        known = f"，可用命令：{'、'.join(choices)}" if choices else ""
        return f"没有命令“{safe(command.group(1))}”{known}"
    if message == "Missing command.":
        return "缺少子命令"
    return "命令行参数有误"


_OS_REASONS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有访问权限",
    errno.EPERM: "没有操作权限",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOTDIR: "路径中的某一级不是目录",
    errno.EEXIST: "文件已存在",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.ENAMETOOLONG: "文件名过长",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in Chinese (the OS's own text is English)."""
    return _OS_REASONS.get(exc.errno or 0, f"系统错误（errno {exc.errno}）")


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return os_reason(exc)
    return f"无法生成该格式的文书（{_first_line(exc)}）"


_FULL_WIDTH_NUMBER = re.compile(r"[-－]?[0-9０-９]+")


def _ascii_numbers(args: list[str]) -> list[str]:
    """A number typed with a Chinese IME (``１２``) is the number 12: NFKC it before Click
    parses integers. Only whole-number tokens change; every other text is left as typed."""
    return [
        unicodedata.normalize("NFKC", arg) if _FULL_WIDTH_NUMBER.fullmatch(arg) else arg
        for arg in args
    ]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app, turn every expected error into a Chinese message."""
    command = typer.main.get_command(app)
    try:
        code = command.main(
            args=_ascii_numbers(argv if argv is not None else sys.argv[1:]),
            prog_name="disclosure",
            standalone_mode=False,
        )
    except DisclosureError as exc:
        err.print(error_line(exc))
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("已取消。")
        sys.exit(1)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(0)  # the help has been shown; asking for it is not an error
        err.print(f"[red]输入有误：[/red]{_usage_message(exc)}（运行 disclosure --help 查看用法）")
        sys.exit(getattr(exc, "exit_code", 2))
    except OSError as exc:
        where = f"（{safe(exc.filename)}）" if exc.filename else ""
        err.print(f"[red]文件操作失败{where}：[/red]{os_reason(exc)}（请检查 --out 等路径）")
        sys.exit(2)
    except OperationalError as exc:
        # str(exc) would echo the statement's parameters (personal data): show the driver's
        # first line only, and the address without its password.
        url = _masked_url()
        err.print(
            f"[red]数据库不可用：[/red]{safe(_first_line(exc.orig))}"
            f"（{safe(url)}，见 DISCLOSURE_DATABASE_URL）"
        )
        sys.exit(1)
    except SQLAlchemyError as exc:
        err.print(
            "[red]数据库拒绝了这次操作：[/red]"
            f"{safe(_first_line(getattr(exc, 'orig', None) or exc))}"
        )
        sys.exit(2)
    # Without standalone mode an Exit(code) is returned, not raised.
    if isinstance(code, int) and code:
        sys.exit(code)
