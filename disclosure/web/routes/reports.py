"""统计报表: the annual report with a drill-down from every number to its cases, the files
to file, and the assessment figures with their chart (supervisors and auditors)."""

from __future__ import annotations

from dataclasses import dataclass
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
from disclosure.workflow.annual_report import COLUMNS, AnnualReport
from disclosure.workflow.challenges import ChallengeKind, challenge_name
from disclosure.workflow.performance import PerformanceReport
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


def _download(data: bytes, fmt: str, name: str) -> Response:
    # RFC 6266: an ASCII fallback name and the Chinese one in UTF-8.
    disposition = f"attachment; filename=report.{fmt}; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=_MEDIA[fmt], headers={"Content-Disposition": disposition})


@dataclass(frozen=True)
class Chosen:
    """What a report page was asked for, with the defaults filled in."""

    agency: str | None
    demo: bool
    year: int = 0
    first: str = ""
    last: str = ""

    def link(self) -> str:
        """The query string that keeps these choices for the page's links and downloads."""
        values: dict[str, object] = {"year": self.year} if self.year else {}
        if self.first:
            values |= {"from": self.first, "to": self.last}
        if self.agency:
            values["agency"] = self.agency
        if self.demo:
            values["demo"] = 1
        return urlencode(values)


def annual_choice(
    request: Request, year: Year = None, agency: AgencyCode = None, demo: Demo = False
) -> Chosen:
    chosen = year or service(request).settings.agency_today().year
    return Chosen(agency or None, demo, year=chosen)


def period_choice(
    request: Request,
    first: Annotated[Month, Query(alias="from")] = None,
    last: Annotated[Month, Query(alias="to")] = None,
    agency: AgencyCode = None,
    demo: Demo = False,
) -> Chosen:
    today = service(request).settings.agency_today()
    first = first or f"{today.year}-01"
    return Chosen(agency or None, demo, first=first, last=last or f"{today:%Y-%m}")


AnnualChoice = Annotated[Chosen, Depends(annual_choice)]
PeriodChoice = Annotated[Chosen, Depends(period_choice)]


def _annual(request: Request, session: WebSessionView, chosen: Chosen) -> AnnualReport:
    return reports.annual_report(
        service(request), chosen.year, agency=chosen.agency, viewer=session.identity.name,
        include_demo=chosen.demo,
    )  # fmt: skip


def _figures(request: Request, session: WebSessionView, chosen: Chosen) -> PerformanceReport:
    return reports.performance(
        service(request), reports.parse_month(chosen.first, "from"),
        reports.parse_month(chosen.last, "to"), agency=chosen.agency,
        viewer=session.identity.name, include_demo=chosen.demo,
    )  # fmt: skip


@router.get("/reports")
def annual(request: Request, session: Reporter, chosen: AnnualChoice) -> Response:
    """The annual report's tables; every number links to the cases it counts."""
    report = _annual(request, session, chosen)
    return render(request, "reports.html.j2", {
        "session": session, "report": report, "rows": reports.annual_rows(report),
        "columns": COLUMNS, "year": chosen.year, "agency": chosen.agency or "",
        "demo": chosen.demo, "agencies": _agencies(service(request), session.identity),
        "query": chosen.link(),
        "challenges": [(challenge_name(ChallengeKind(k)), c) for k, c in report.section4.items()],
    })  # fmt: skip


@router.get("/reports/cases")
def drill_down(
    request: Request,
    session: Reporter,
    row: Annotated[str, Query(max_length=20)],
    column: Annotated[str, Query(max_length=20)],
    chosen: AnnualChoice,
) -> Response:
    """The cases one number of section 三 counts, each with why."""
    found = reports.explain(
        service(request), chosen.year, row, column, agency=chosen.agency,
        viewer=session.identity.name, include_demo=chosen.demo,
    )  # fmt: skip
    return render(request, "report_cases.html.j2", {
        "session": session, "found": found, "row": row, "column": column,
        "year": chosen.year, "back": chosen.link(),
    })  # fmt: skip


@router.get("/reports/annual.{fmt}")
def annual_download(
    request: Request, session: Reporter, fmt: str, chosen: AnnualChoice
) -> Response:
    """The report as the CSV, XLSX or PDF file an agency files."""
    report = _annual(request, session, chosen)
    data = reports.annual_file(report, fmt)  # type: ignore[arg-type]  # refused unless one of three
    return _download(data, fmt, f"{report.title}.{fmt}")


@router.get("/reports/performance")
def performance(request: Request, session: Reporter, chosen: PeriodChoice) -> Response:
    """The assessment figures per agency and month, with the on-time chart."""
    [headings, *rows] = reports.performance_rows(_figures(request, session, chosen))
    return render(request, "performance.html.j2", {
        "session": session, "headings": headings, "rows": rows, "first": chosen.first,
        "last": chosen.last, "agency": chosen.agency or "", "demo": chosen.demo,
        "agencies": _agencies(service(request), session.identity), "query": chosen.link(),
    })  # fmt: skip


@router.get("/reports/performance.{fmt}")
def performance_download(
    request: Request, session: Reporter, fmt: str, chosen: PeriodChoice
) -> Response:
    """The figures as CSV or XLSX, or the chart as PNG (the page shows it)."""
    data = reports.performance_file(_figures(request, session, chosen), fmt)  # type: ignore[arg-type]
    if fmt == "png":
        return Response(data, media_type=_MEDIA["png"])
    return _download(data, fmt, f"依申请公开办理情况统计.{fmt}")
