"""Case commands: register, every workflow trigger, show, list, the overview."""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
import typer.rich_utils
from rich.table import Table

from disclosure.cli.app import (
    STATE_HELP,
    AgencyCode,
    AsUser,
    BackdateReason,
    CaseId,
    Encoding,
    Expect,
    On,
    Reason,
    Viewer,
    acting_user,
    app,
    case_app,
    cli_via,
    date_option,
    label_of,
    open_app,
    today_of,
)
from disclosure.cli.console import aware, days_left, err, out, safe, zone_label
from disclosure.cli.errors import FLAG_FOR_FIELD, flag
from disclosure.cli.output import (
    ListingFormat,
    check_listing_format,
    emit,
    write_csv,
    write_json,
)
from disclosure.workflow.application import (
    APPLICANT_KIND_LABELS,
    CHANNEL_LABELS,
    ID_TYPE_LABELS,
)
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.states import (
    OUTCOMES,
    STATE_LABELS,
    State,
    parse_state,
)
from disclosure.workflow.triggers import TRIGGERS, TRIGGERS_BY_NAME, Trigger, parse_input

#: ``register`` and ``recompute_limits`` are not workflow transitions but appear in the trail.
_STEP_LABELS = {"register": "登记申请", "recompute_limits": "按新日历重算期限"}
_SYSTEM_LABEL = "系统"


def step_label(trigger: str) -> str:
    spec = TRIGGERS_BY_NAME.get(trigger)
    return spec.label if spec else _STEP_LABELS.get(trigger, trigger)


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
    agency: AgencyCode = None,
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
    service = open_app()
    today = today_of(service.settings)
    case_id = cases.register(
        service, data, acting_user(as_user), today, agency=agency, via=cli_via()
    )
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


OUTCOMES_HELP = "答复类型：" + " / ".join(f"{o.code}={o.label}" for o in OUTCOMES.values())


_P = inspect.Parameter
_EMPTY = inspect.Parameter.empty


def _option(name: str, annotation: Any, default: Any = _EMPTY) -> inspect.Parameter:
    return _P(name, _P.KEYWORD_ONLY, annotation=annotation, default=default)


_COMMON_FIELDS = ("trigger", "reason", "backdate_reason")


def _bounds(info: Any) -> tuple[int | None, int | None]:
    low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
    return low, high


def _trigger_option(name: str, info: Any) -> inspect.Parameter:
    """A trigger input field as a Typer option: its title (and description) as help."""
    help_text = info.description or info.title or name
    cli_name = FLAG_FOR_FIELD.get(name, name)
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
            name: options.get(FLAG_FOR_FIELD.get(name, name))
            for name in trigger.input.model_fields
            if name != "trigger"
        }
        service = open_app()
        today = today_of(service.settings)
        change = cases.act(
            service, options["case_id"],
            parse_input(trigger.name, {k: v for k, v in fields.items() if v is not None}),
            actor=acting_user(options["as_user"]), on=date_option(options["on"], "on", today),
            today=today, expected_version=options["expect_version"], via=cli_via(),
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


def _case_data(view: Any, letters: list[Any], menu: list[str]) -> dict[str, Any]:
    """``case show`` for programs: stable English keys, ISO dates, the ID masked."""
    return {
        "id": view.id, "state": view.state.value, "version": view.version,
        "applicant": {"name": view.applicant_name, "kind": view.applicant_kind,
                      "id_type": view.id_type, "id_masked": view.id_masked},
        "description": view.description, "channel": view.channel,
        "received_on": view.received_on, "outcome": view.outcome,
        "reason_code": view.outcome_reason, "drafted_by": view.drafted_by,
        "approved_by": view.approved_by, "paused": view.paused,
        "duplicate_of": view.duplicate_of,
        "limits": [{"key": x.key, "label": x.label, "due": x.due, "provisional": x.provisional,
                    "explanation": x.explanation} for x in view.limits],
        "fee": None if view.fee is None else {
            "amount": view.fee.amount, "scale": view.fee.scale, "issued_on": view.fee.issued_on,
            "paid_on": view.fee.paid_on},
        "reply": None if view.reply is None else {
            "replied_on": view.reply.replied_on, "due": view.reply.due,
            "working_days_early": view.reply.margin},
        "trail": [_trail_row(e) for e in view.trail],
        "letters": [{"kind": x.kind, "title": x.title, "number": x.number,
                     "issued_on": x.issued_on} for x in letters],
        "triggers": menu,
    }  # fmt: skip


_TRAIL_COLUMNS = ["seq", "at", "on", "actor", "actor_role", "trigger", "from_state", "to_state",
                  "reason"]  # fmt: skip


def _trail_row(event: Any) -> dict[str, Any]:
    payload = _payload(event.payload)
    return {
        "seq": event.seq, "at": aware(event.at), "on": payload.get("on") or payload.get("received_on"),
        "actor": event.actor, "actor_role": event.actor_role, "trigger": event.trigger,
        "from_state": event.from_state, "to_state": event.to_state, "reason": event.reason,
    }  # fmt: skip


@case_app.command("show")
def case_show(case_id: CaseId, as_user: Viewer = None, fmt: ListingFormat = "table") -> None:
    """显示案件：状态、每个期限及其计算说明、完整轨迹。"""
    from disclosure.services import cases
    from disclosure.services.letters import case_letters
    from disclosure.workflow.machine import available_triggers

    check_listing_format(fmt)
    service = open_app()
    view = cases.get_case(service, case_id, viewer=acting_user(as_user))
    letters = case_letters(service, case_id)
    menu = available_triggers(view.state)
    if fmt == "json":
        write_json(_case_data(view, letters, menu))
        return
    if fmt == "csv":
        write_csv([_trail_row(e) for e in view.trail], _TRAIL_COLUMNS)
        return
    out.print(
        f"[bold]案件 {view.id}[/bold]  状态：[bold]{STATE_LABELS[view.state]}[/bold]"
        f"{'（计时暂停）' if view.paused else ''}  版本：{view.version}"
    )
    out.print(
        f"申请人：{safe(view.applicant_name)}"
        f"（{safe(label_of(APPLICANT_KIND_LABELS, view.applicant_kind))}，"
        f"{safe(label_of(ID_TYPE_LABELS, view.id_type))} {safe(view.id_masked)}）"
        f"  联系方式：{safe(view.contact)}"
    )
    channel = safe(label_of(CHANNEL_LABELS, view.channel))
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
        "#", f"记录时间（{zone_label(zone_name)}）", "办理日期", "办理人", "操作", "状态变化",
        "备注", title="轨迹",
    )  # fmt: skip
    for event in view.trail:
        before = _state_label(event.from_state) if event.from_state else "—"
        trail.add_row(
            str(event.seq),
            aware(event.at).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            _business_date(_payload(event.payload)),
            _actor_label(event.actor, display_names),
            safe(step_label(event.trigger)),
            f"{before} → {_state_label(event.to_state)}",
            safe(event.reason, multiline=True),
        )
    out.print(trail)
    if letters:
        out.print(f"已发文书：{'；'.join(f'{safe(x.title)} {safe(x.number)}' for x in letters)}")
    commands = "、".join(t.replace("_", "-") for t in menu)
    out.print(f"可用操作：{commands or '无（已办结）'}")


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
    as_user: Viewer = None,
    agency: AgencyCode = None,
    fmt: ListingFormat = "table",
) -> None:
    """列出案件（身份证号已打码），分页显示并给出总数。"""
    from disclosure.services import cases

    check_listing_format(fmt)
    code = parse_state(state).value if state is not None else None
    service = open_app()
    today = today_of(service.settings)
    offset = (page - 1) * limit
    seen = {"viewer": acting_user(as_user), "agency": agency}
    total = cases.count_cases(
        service, today, state=code, due_within=due_within, overdue=overdue, **seen
    )
    rows = cases.list_cases(
        service, today, state=code, due_within=due_within, overdue=overdue,
        limit=limit, offset=offset, **seen,
    )  # fmt: skip
    if fmt != "table":
        listed = [_case_row(row) for row in rows]
        data = {"today": today, "total": total, "page": page, "limit": limit, "cases": listed}
        emit(fmt, data=data, rows=listed, columns=_CASE_COLUMNS)
        return
    out.print(_cases_table(rows, f"案件（今天 {cn_date(today)}）"))
    out.print(
        _page_line(
            total, offset, len(rows), page, limit, _list_command(code, due_within, overdue, limit)
        )
    )


_CASE_COLUMNS = ["id", "state", "applicant", "id_masked", "received_on", "reply_due",
                 "provisional", "working_days_left"]  # fmt: skip


def _case_row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "state": row.state.value, "applicant": row.applicant_name,
        "id_masked": row.id_masked, "received_on": row.received_on, "reply_due": row.reply_due,
        "provisional": row.provisional, "working_days_left": row.working_days_left,
    }  # fmt: skip


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


def _cases_table(rows: list[Any], title: str) -> Table:
    table = Table(
        "编号", "状态", "申请人", "证件号", "收到日期", "答复期限", "剩余工作日", title=title
    )
    for row in rows:
        left = days_left(row.working_days_left)
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
def overview(
    as_user: Viewer = None, agency: AgencyCode = None, fmt: ListingFormat = "table"
) -> None:
    """负责人视图：各状态在办案件数，临近期限与已超期案件。"""
    from disclosure.services import cases

    check_listing_format(fmt)
    service = open_app()
    today = today_of(service.settings)
    view = cases.overview(service, today, viewer=acting_user(as_user), agency=agency)
    if fmt != "table":
        approaching = [_case_row(row) for row in view.approaching]
        overdue = [_case_row(row) for row in view.overdue]
        data = {
            "today": today, "total": view.total, "agencies": view.agencies,
            "by_state": {state.value: count for state, count in view.by_state.items()},
            "approaching": approaching, "overdue": overdue,
        }  # fmt: skip
        listed = [{"list": "approaching", **row} for row in approaching]
        listed += [{"list": "overdue", **row} for row in overdue]
        emit(fmt, data=data, rows=listed, columns=["list", *_CASE_COLUMNS])
        return
    out.print(
        f"[bold]{safe('、'.join(view.agencies))} 依申请公开办理情况[/bold]"
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
