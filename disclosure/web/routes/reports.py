"""统计报表: the annual report with a drill-down from every number to its cases, the files
to file, and the assessment figures with their chart (supervisors and auditors)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from disclosure.services import reports
from disclosure.services.agencies import list_agencies
from disclosure.services.auth import Identity, WebSessionView
from disclosure.services.unit_of_work import App
from disclosure.web.auth import page_roles, service
from disclosure.web.routes.pages import render
from disclosure.workflow.annual_report import COLUMNS
from disclosure.workflow.challenges import ChallengeKind, challenge_name
from disclosure.workflow.states import Role

router = APIRouter(include_in_schema=False)

Reporter = Annotated[WebSessionView, Depends(page_roles(Role.SUPERVISOR, Role.AUDITOR))]
Year = Annotated[int | None, Query(ge=reports.FIRST_YEAR, le=reports.LAST_YEAR)]
AgencyCode = Annotated[str | None, Query(max_length=20)]
#: Count the demo's cases too (a demo database holds nothing else).
Demo = Annotated[bool, Query()]
Month = Annotated[str | None, Query(max_length=20)]
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "png": "image/png",
}


def _agencies(app: App, identity: Identity) -> list[tuple[str, str]]:
    """(code, name) of every agency the user may report on."""
    return [
        (a.profile.code, a.profile.name)
        for a in list_agencies(app)
        if identity.all_agencies or a.profile.code in identity.agencies
    ]


def _query(*, agency: str | None, demo: bool, **values: object) -> str:
    """The query string that keeps a page's choices for its links and downloads."""
    if agency:
        values["agency"] = agency
    if demo:
        values["demo"] = 1
    return urlencode(values)


def _download(data: bytes, fmt: str, name: str) -> Response:
    # RFC 6266: an ASCII fallback name and the Chinese one in UTF-8.
    disposition = f"attachment; filename=report.{fmt}; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=_MEDIA[fmt], headers={"Content-Disposition": disposition})


@router.get("/reports")
def annual(
    request: Request,
    session: Reporter,
    year: Year = None,
    agency: AgencyCode = None,
    demo: Demo = False,
) -> Response:
    """The annual report's tables; every number links to the cases it counts."""
    app = service(request)
    chosen = year or app.settings.agency_today().year
    report = reports.annual_report(
        app, chosen, agency=agency or None, viewer=session.identity.name, include_demo=demo
    )
    base = _query(year=chosen, agency=agency, demo=demo)
    return render(request, "reports.html.j2", {
        "session": session, "report": report, "rows": reports.annual_rows(report),
        "columns": COLUMNS, "year": chosen, "agency": agency or "", "demo": demo,
        "agencies": _agencies(app, session.identity), "query": base,
        "challenges": [(challenge_name(ChallengeKind(k)), c) for k, c in report.section4.items()],
    })  # fmt: skip


@router.get("/reports/cases")
def drill_down(
    request: Request,
    session: Reporter,
    row: Annotated[str, Query(max_length=20)],
    column: Annotated[str, Query(max_length=20)],
    year: Year = None,
    agency: AgencyCode = None,
    demo: Demo = False,
) -> Response:
    """The cases one number of section 三 counts, each with why."""
    app = service(request)
    chosen = year or app.settings.agency_today().year
    found = reports.explain(
        app, chosen, row, column, agency=agency or None, viewer=session.identity.name,
        include_demo=demo,
    )  # fmt: skip
    back = _query(year=chosen, agency=agency, demo=demo)
    return render(request, "report_cases.html.j2", {
        "session": session, "found": found, "row": row, "column": column, "year": chosen,
        "back": back,
    })  # fmt: skip


@router.get("/reports/annual.{fmt}")
def annual_download(
    request: Request,
    session: Reporter,
    fmt: str,
    year: Year = None,
    agency: AgencyCode = None,
    demo: Demo = False,
) -> Response:
    """The report as the CSV, XLSX or PDF file an agency files."""
    app = service(request)
    chosen = year or app.settings.agency_today().year
    report = reports.annual_report(
        app, chosen, agency=agency or None, viewer=session.identity.name, include_demo=demo
    )
    data = reports.annual_file(report, fmt)  # type: ignore[arg-type]  # refused unless one of three
    return _download(data, fmt, f"{report.title}.{fmt}")


@router.get("/reports/performance")
def performance(
    request: Request,
    session: Reporter,
    first: Annotated[Month, Query(alias="from")] = None,
    last: Annotated[Month, Query(alias="to")] = None,
    agency: AgencyCode = None,
    demo: Demo = False,
) -> Response:
    """The assessment figures per agency and month, with the on-time chart."""
    app = service(request)
    today = app.settings.agency_today()
    first = first or f"{today.year}-01"
    last = last or f"{today.year}-{today.month:02d}"
    figures = reports.performance(
        app, reports.parse_month(first, "from"), reports.parse_month(last, "to"),
        agency=agency or None, viewer=session.identity.name, include_demo=demo,
    )  # fmt: skip
    [headings, *rows] = reports.performance_rows(figures)
    query = _query(agency=agency, demo=demo, **{"from": first, "to": last})
    return render(request, "performance.html.j2", {
        "session": session, "headings": headings, "rows": rows, "first": first, "last": last,
        "agency": agency or "", "demo": demo, "agencies": _agencies(app, session.identity),
        "query": query,
    })  # fmt: skip


@router.get("/reports/performance.{fmt}")
def performance_download(
    request: Request,
    session: Reporter,
    fmt: str,
    first: Annotated[Month, Query(alias="from")] = None,
    last: Annotated[Month, Query(alias="to")] = None,
    agency: AgencyCode = None,
    demo: Demo = False,
) -> Response:
    """The figures as CSV or XLSX, or the chart as PNG (the page shows it)."""
    app = service(request)
    today = app.settings.agency_today()
    figures = reports.performance(
        app, reports.parse_month(first or f"{today.year}-01", "from"),
        reports.parse_month(last or f"{today.year}-{today.month:02d}", "to"),
        agency=agency or None, viewer=session.identity.name, include_demo=demo,
    )  # fmt: skip
    data = reports.performance_file(figures, fmt)  # type: ignore[arg-type]
    if fmt == "png":
        return Response(data, media_type=_MEDIA["png"])
    return _download(data, fmt, f"依申请公开办理情况统计.{fmt}")
