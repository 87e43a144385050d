"""The HTTP API, ``/api/v1``: the services behind bearer tokens, one POST per trigger.

A trigger's body is the trigger's own input model (the same one the page form and the CLI
fill in), so a field is validated, and refused, alike everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response

from disclosure.services import alerts, cases
from disclosure.services import letters as letter_service
from disclosure.services.auth import Identity
from disclosure.services.deadline_file import limits_of
from disclosure.services.worklist import DUE_WITHIN_MAX, CaseFilter, due_soon, worklist
from disclosure.services.worklist import mine as own_cases
from disclosure.web.auth import api_identity, api_roles, service
from disclosure.web.routes.audit import verified
from disclosure.web.routes.cases import letter_response
from disclosure.web.schemas import (
    AlertOut,
    CaseListOut,
    CaseOut,
    ChainBreakOut,
    ChangeOut,
    DeadlineIn,
    DeadlineOut,
    ErrorOut,
    LetterOut,
    MeOut,
    RegisteredOut,
    VerifyOut,
    case_out,
    change_out,
    letter_out,
    limit_out,
    me_out,
    summary_out,
)
from disclosure.workflow.inputs import TriggerInput
from disclosure.workflow.machine import available_triggers
from disclosure.workflow.states import Role
from disclosure.workflow.triggers import TRIGGERS, TRIGGERS_BY_NAME, Trigger

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "输入违反业务规则（字段与规则见响应体）"),
        (401, "缺少或无效的接口令牌"),
        (403, "角色或所属机关无权进行此操作"),
        (404, "案件或文书不存在"),
        (409, "案件已被他人修改，或当前状态不允许此操作"),
        (422, "请求格式不符合接口定义"),
        (503, "数据库暂时不可用或正忙，请稍后重试"),
    )
}

router = APIRouter(responses=_ERRORS)

CaseNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="案件编号")]
Reader = Annotated[Identity, Depends(api_roles(Role.CLERK, Role.SUPERVISOR, Role.AUDITOR))]
Writer = Annotated[Identity, Depends(api_roles(Role.CLERK, Role.SUPERVISOR))]


@router.get("/me", response_model=MeOut, summary="当前令牌所属的用户")
def me(identity: Annotated[Identity, Depends(api_identity)]) -> MeOut:
    return me_out(identity)


@router.get("/cases", response_model=CaseListOut, summary="案件列表（期限最近的在前，按页）")
def list_cases(
    request: Request,
    identity: Reader,
    state: Annotated[str | None, Query(max_length=30, description="状态代码或中文名称")] = None,
    received_from: Annotated[
        str | None, Query(max_length=40, description="收到日期自 YYYY-MM-DD")
    ] = None,
    received_to: Annotated[str | None, Query(max_length=40, description="收到日期至")] = None,
    due_from: Annotated[str | None, Query(max_length=40, description="答复期限自")] = None,
    due_to: Annotated[str | None, Query(max_length=40, description="答复期限至")] = None,
    applicant: Annotated[str | None, Query(max_length=200, description="申请人名称包含")] = None,
    number: Annotated[str | None, Query(max_length=200, description="文号（任一文书）")] = None,
    channel: Annotated[str | None, Query(max_length=60, description="提交方式代码")] = None,
    keyword: Annotated[str | None, Query(max_length=200, description="申请内容包含")] = None,
    mine: Annotated[bool, Query(description="只列我承办的案件")] = False,
    due_within: Annotated[
        int | None, Query(ge=0, le=DUE_WITHIN_MAX, description="答复期限在N个工作日内（未办结）")
    ] = None,
    overdue: Annotated[bool, Query(description="只列逾期未办结的案件")] = False,
    after: Annotated[
        str | None, Query(max_length=40, description="上一页返回的 next_cursor")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CaseListOut:
    """The worklist's filters and pages (keyset: pass ``next_cursor`` back as ``after``)."""
    app = service(request)
    today = app.settings.agency_today()
    typed = {
        "state": state, "received_from": received_from, "received_to": received_to,
        "due_from": due_from, "due_to": due_to, "applicant": applicant, "number": number,
        "channel": channel, "keyword": keyword,
    }  # fmt: skip
    wanted = CaseFilter.parse({k: v for k, v in typed.items() if v is not None})
    if mine:
        wanted = own_cases(wanted, identity.name)
    wanted = due_soon(app, today, wanted, within=due_within, overdue=overdue)
    page = worklist(app, today, wanted, viewer=identity.name, after=after, limit=limit)
    return CaseListOut(
        total=page.total, cases=[summary_out(x) for x in page.cases], next_cursor=page.next_cursor
    )


@router.post(
    "/cases", response_model=RegisteredOut, status_code=201, summary="登记申请（第二十九条）"
)
def register(
    request: Request,
    identity: Writer,
    application: Annotated[
        dict[str, Any],
        Body(
            description="申请内容：applicant_kind, name, id_type, id_number, phone, email, "
            "address, postal_code, description, delivery_form, delivery_method, channel, "
            "received_on"
        ),
    ],
) -> RegisteredOut:
    app = service(request)
    case_id = cases.register(
        app, application, identity.name, app.settings.agency_today(), via=identity.via
    )
    return RegisteredOut(id=case_id)


def _case(app: Any, identity: Identity, case_id: int) -> CaseOut:
    view = cases.get_case(app, case_id, viewer=identity.name)
    menu = [
        name
        for name in available_triggers(view.state)
        if identity.role in TRIGGERS_BY_NAME[name].roles
    ]
    return case_out(view, list(letter_service.case_letters(app, case_id)), menu)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="案件详情、期限与轨迹")
def show_case(request: Request, identity: Reader, case_id: CaseNumber) -> CaseOut:
    return _case(service(request), identity, case_id)


@router.get("/cases/{case_id}/letters", response_model=list[LetterOut], summary="案件的文书")
def case_letters(request: Request, identity: Reader, case_id: CaseNumber) -> list[LetterOut]:
    app = service(request)
    cases.get_case(app, case_id, viewer=identity.name)
    return [letter_out(x) for x in letter_service.case_letters(app, case_id)]


@router.get(
    "/cases/{case_id}/letters/{kind}.{fmt}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "文书文件"}},
    summary="下载文书（pdf、docx 或 html）",
)
def letter_file(
    request: Request,
    identity: Reader,
    case_id: CaseNumber,
    kind: Annotated[str, Path(max_length=40, pattern=r"^[a-z_0-9]+$")],
    fmt: Annotated[str, Path(pattern=r"^(pdf|docx|html)$")],
) -> Response:
    return letter_response(service(request), identity, case_id, kind, fmt)


@router.get("/alerts", response_model=list[AlertOut], summary="未解除的期限提醒（按角色）")
def alert_list(request: Request, identity: Reader) -> list[AlertOut]:
    app = service(request)
    listed = alerts.alert_list(app, app.settings.agency_today(), user=identity.name)
    return [
        AlertOut(
            case_id=row.case_id,
            kind=row.condition.key,
            label=row.condition.label,
            limit_date=row.limit_date,
            working_days_left=row.working_days_left,
            agency=row.agency,
            proposed_step=row.condition.proposed_step,
        )  # fmt: skip
        for row in listed.rows
    ]


@router.post("/deadline", response_model=DeadlineOut, summary="期限计算（与案件办理同一函数）")
def deadline(
    request: Request,
    identity: Annotated[Identity, Depends(api_identity)],
    what_if: DeadlineIn,
) -> DeadlineOut:
    app = service(request)
    limits = limits_of(what_if.model_dump(), app.settings.calendar, app.settings.rules)
    return DeadlineOut(limits=[limit_out(x) for x in limits.all()])


@router.get("/audit/verify", response_model=VerifyOut, summary="核验轨迹哈希链")
def verify(
    request: Request,
    identity: Annotated[Identity, Depends(api_roles(Role.AUDITOR, Role.SUPERVISOR))],
    case: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="只核验这一件")] = None,
) -> VerifyOut:
    checked, breaks = verified(service(request), identity, case)
    return VerifyOut(
        checked=checked,
        intact=not breaks,
        breaks=[ChainBreakOut(case_id=b.case_id, seq=b.seq, problem=b.problem) for b in breaks],
    )


def _trigger_route(trigger: Trigger) -> None:
    model = trigger.input

    def fire(
        request: Request,
        identity: Writer,
        case_id: CaseNumber,
        command: Annotated[TriggerInput, Body()],
        on: Annotated[date | None, Query(description="办理日期（默认今天）")] = None,
        expected_version: Annotated[
            int | None, Query(ge=1, description="你看到的案件版本号（乐观锁）")
        ] = None,
    ) -> ChangeOut:
        app = service(request)
        today = app.settings.agency_today()
        change = cases.act(
            app, case_id, command, actor=identity.name, on=on or today, today=today,
            expected_version=expected_version, via=identity.via,
        )  # fmt: skip
        return change_out(change)

    fire.__annotations__["command"] = Annotated[model, Body()]
    router.add_api_route(
        f"/cases/{{case_id}}/{trigger.name}",
        fire,
        methods=["POST"],
        response_model=ChangeOut,
        summary=trigger.label,
        name=f"trigger_{trigger.name}",
        operation_id=f"trigger_{trigger.name}",
    )


for _trigger in TRIGGERS:
    _trigger_route(_trigger)
