"""The CLI's one place for errors: every ``DisclosureError``, usage error, file and database
failure ends as a one-line Chinese message on stderr, naming the flag the user typed."""

from __future__ import annotations

import errno
import re
import sys
import unicodedata
from typing import Any

import typer
import typer.rich_utils
from pydantic import ValidationError

# Typer (0.29+) parses with its own copy of Click; its exception types are these.
from typer._click import exceptions as click_errors

from disclosure.cli.app import app
from disclosure.cli.console import err, safe
from disclosure.config import Settings
from disclosure.errors import DisclosureError
from disclosure.services.database import database_failure
from disclosure.workflow.application import (
    FIELD_LABELS,
)
from disclosure.workflow.triggers import TRIGGERS

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
    "agency": "机关代码",
    "agencies": "所属机关",
    "all_agencies": "县级用户",
    "viewer": "查看人",
    "code": "机关代码",
    "number_prefix": "文号前缀",
    "user_name": "用户名",
    "password": "密码",
    "label": "令牌用途",
    "token_id": "令牌编号",
}
#: CLI flags that differ from their field's name (a repeated ``--item`` fills ``items``).
FLAG_FOR_FIELD = {
    "items": "item",
    "expected_version": "expect_version",
    "actor": "as",
    "agencies": "agency",
    "all_agencies": "county",
    "password": "password_stdin",
}


def flag(field: str) -> str:
    """The command-line flag that sets a service field: ``refer_to`` → ``--refer-to``."""
    return "--" + FLAG_FOR_FIELD.get(field, field).replace("_", "-")


#: Service fields a command-line flag sets: every trigger input, the date, the version, and
#: the report and verification options of the same name.
_FLAGGED_FIELDS = (
    frozenset(name for t in TRIGGERS for name in t.input.model_fields if name != "trigger")
    | {"on", "expected_version", "agency", "agencies", "all_agencies", "password"}
    | {"row", "column", "from", "to", "against"}
)
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


# -- entry point -------------------------------------------------------------------------


def first_line(error: object) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _masked_url() -> str:
    try:
        from disclosure.services.database import masked_url

        return masked_url(Settings.from_env())
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
        # Else the head of its help text: "卷宗文件（.zip）" names 卷宗文件.
        head = re.split(r"[（(：；，]", str(getattr(param, "help", "") or ""), maxsplit=1)[0]
        return _ARGUMENT_NAMES.get(name, FIELD_NAMES.get(name, head.strip() or "参数"))
    if isinstance(hint, str) and hint:
        return hint.strip("'\"")
    if isinstance(hint, list | tuple) and hint:
        return "/".join(str(h) for h in hint)
    opts = getattr(param, "opts", None) or []
    return "/".join(opts) or "参数"


#: Typer's coercion errors (pydantic error types) → what was wrong, in Chinese.
_TYPE_PROBLEMS = {
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
}


def _bad_value(exc: click_errors.BadParameter) -> str:
    """Why a value was refused, in Chinese: from the coercion error's type and the
    parameter's bounds, never from the library's English text."""
    cause = exc.__cause__
    kind = cause.errors()[0]["type"] if isinstance(cause, ValidationError) else ""
    low, high = getattr(exc.param, "min", None), getattr(exc.param, "max", None)
    if kind in ("greater_than_equal", "greater_than") and low is not None:
        return f"须不小于{low}"
    if kind in ("less_than_equal", "less_than") and high is not None:
        return f"须不大于{high}"
    return _TYPE_PROBLEMS.get(kind, "不是可接受的值")


def _option_of(name: str, args: list[str]) -> Any:
    """The option called ``name`` of the command ``args`` invoke (Click gives no context)."""
    command: Any = typer.main.get_command(app)
    for word in args:
        commands = getattr(command, "commands", None)
        if isinstance(commands, dict) and word in commands:
            command = commands[word]
    return next((p for p in getattr(command, "params", []) if name in p.opts), None)


def _usage_message(exc: click_errors.ClickException, args: list[str]) -> str:
    """Click's usage errors, in Chinese, naming the parameter as the user typed it; told
    apart by the exception's type and the command's parameters, never by English text.

    The result is markup: user tokens in it are escaped.
    """
    if isinstance(exc, click_errors.MissingParameter):
        return f"缺少必填参数 {safe(_param_name(exc))}"
    if isinstance(exc, click_errors.NoSuchOption):
        name = exc.option_name
        if re.fullmatch(r"-\d+", name):  # Click reads "-1" as an option, not a number
            return (
                f"“{safe(name)}”不是有效的参数值：案件编号、年份、页数须为正整数，"
                "文书类别、文号或机关代码不能以“-”开头"
            )
        text = f"没有选项 {safe(name)}"
        possible = sorted(exc.possibilities or [])
        return text + (f"，是否想用 {safe('、'.join(possible))}？" if possible else "")
    if isinstance(exc, click_errors.BadParameter):
        return f"参数 {safe(_param_name(exc))} 的值无效：{_bad_value(exc)}"
    if isinstance(exc, click_errors.BadOptionUsage):
        option = _option_of(exc.option_name, args)
        shown = safe(exc.option_name)
        if option is not None and getattr(option, "is_flag", False):
            return f"选项 {shown} 不接受值"
        return f"选项 {shown} 缺少取值" if option is not None else f"选项 {shown} 的用法有误"
    if isinstance(exc, click_errors.UsageError):
        ctx = exc.ctx
        if ctx is not None and hasattr(ctx.command, "list_commands"):  # a command group
            choices = ctx.command.list_commands(ctx)
            known = f"，可用命令：{'、'.join(choices)}" if choices else ""
            # The words after the group's own path: the first one is the unknown command.
            words = [a for a in args if not a.startswith("-")]
            unknown = next(iter(words[len(ctx.command_path.split()) - 1 :]), "")
            if not unknown:
                return "缺少子命令" + known
            return f"没有命令“{safe(unknown)}”{known}"
        # Click puts the extra tokens in brackets at the end; nothing else is read from it.
        extra = re.search(r"\(([^()]*)\)\s*$", str(exc.message))
        return f"多余的参数：{safe(extra.group(1))}" if extra else "多余的参数"
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
    args = _ascii_numbers(argv if argv is not None else sys.argv[1:])
    try:
        code = command.main(
            args=args,
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
    except click_errors.ClickException as exc:
        if isinstance(exc, click_errors.NoArgsIsHelpError):
            sys.exit(0)  # the help has been shown; asking for it is not an error
        err.print(
            f"[red]输入有误：[/red]{_usage_message(exc, args)}（运行 disclosure --help 查看用法）"
        )
        sys.exit(getattr(exc, "exit_code", 2))
    except OSError as exc:
        where = f"（{safe(exc.filename)}）" if exc.filename else ""
        err.print(f"[red]文件操作失败{where}：[/red]{os_reason(exc)}（请检查 --out 等路径）")
        sys.exit(2)
    except Exception as exc:
        # A database error no service translated: the driver's first line only (str(exc)
        # would echo the statement's parameters, personal data) and the address without its
        # password. Anything else is a bug, and its traceback is the report.
        failure = database_failure(exc)
        if failure is None:
            raise
        if failure.unreachable:
            err.print(
                f"[red]数据库不可用：[/red]{safe(failure.reason)}"
                f"（{safe(_masked_url())}，见 DISCLOSURE_DATABASE_URL）"
            )
            sys.exit(1)
        err.print(f"[red]数据库拒绝了这次操作：[/red]{safe(failure.reason)}")
        sys.exit(2)
    # Without standalone mode an Exit(code) is returned, not raised.
    if isinstance(code, int) and code:
        sys.exit(code)
