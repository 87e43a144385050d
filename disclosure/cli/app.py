"""The Typer application, its command groups, the options they share and the helpers every
command uses to open the product."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import typer
import typer.rich_utils

from disclosure.cli.console import width_of
from disclosure.config import Settings
from disclosure.services.auth import Channel, Via
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import (
    parse_date,
)
from disclosure.workflow.states import (
    STATE_LABELS,
    State,
)
from disclosure.workflow.text import printable

# ``--help`` is drawn by Typer's own Rich console: give it the same width.
typer.rich_utils.MAX_WIDTH = width_of(sys.stdout)
_CONTEXT = {"max_content_width": width_of(sys.stdout) or 200}

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
agency_app = typer.Typer(help="机关（部门）：一个平台，多个机关", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(calendar_app, name="calendar")
app.add_typer(case_app, name="case")
app.add_typer(audit_app, name="audit")
app.add_typer(letter_app, name="letter")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(alerts_app, name="alerts")
app.add_typer(agency_app, name="agency")


AsUser = Annotated[
    str | None, typer.Option("--as", help="办理人用户名（或环境变量 DISCLOSURE_USER）")
]


#: ``--state`` takes a state's code (``handling``) or its Chinese label (``办理中``):
#: ``workflow.states.parse_state`` reads both, for ``case list`` and ``letter batch`` alike.
STATE_HELP = " / ".join(f"{s.value}（{STATE_LABELS[s]}）" for s in State)


def load_settings() -> Settings:
    return Settings.from_env()


def open_app() -> App:
    return App.open(load_settings())


def today_of(settings: Settings) -> date:
    """Today in the agency's time zone (DISCLOSURE_TODAY fixes it for demos and tests)."""
    return settings.agency_today()


def label_of(labels: Mapping[Any, str], value: str) -> str:
    return labels.get(value, value)


def acting_user(name: str | None) -> str | None:
    return name or os.environ.get("DISCLOSURE_USER") or None


def cli_via() -> Via:
    """The CLI channel and the operating-system user who ran the command (for the trail)."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER
        os_user = f"uid {os.getuid()}"
    return Via(Channel.CLI, printable(os_user, 40))


def date_option(value: str | None, field: str, default: date) -> date:
    return default if value is None else parse_date(value, field)


# -- options several commands share -------------------------------------------------------

CaseId = Annotated[int, typer.Argument(help="案件编号", min=1, max=2**31 - 1)]
On = Annotated[str | None, typer.Option(help="办理日期 YYYY-MM-DD，默认今天")]
Reason = Annotated[str, typer.Option(help="理由或备注（记入轨迹）")]
Expect = Annotated[int | None, typer.Option(help="期望的案件版本号（防止覆盖他人修改）")]
BackdateReason = Annotated[
    str,
    typer.Option(help="补录理由：办理日期早于今天超过规定工作日数时必填（须由负责人办理）"),
]

Encoding = Annotated[
    str | None,
    typer.Option(help="文件编码：默认 UTF-8（可带 BOM）；GBK 文件用 gb18030"),
]


Format = Annotated[str, typer.Option("--format", help="pdf / docx / html")]

AgencyCode = Annotated[
    str | None, typer.Option("--agency", help="机关代码：只看该机关（默认：本人所属的全部机关）")
]
Viewer = Annotated[
    str | None,
    typer.Option("--as", help="查看人用户名（或环境变量 DISCLOSURE_USER）：只显示其所属机关"),
]
