"""Agencies as data: add, list and show them, and say who works for which.

A county runs one platform for all its departments. Each case, letter counter and user
belongs to an agency; the county's supervisors and auditors (``all_agencies``) see them all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disclosure.config import Settings
from disclosure.errors import NotFound, PermissionDenied, RuleViolation
from disclosure.models.tables import Agency, Case, User
from disclosure.services.audit import seal_user
from disclosure.services.unit_of_work import App
from disclosure.workflow.agency import AgencyProfile, validate_agency
from disclosure.workflow.fees import FeeScale
from disclosure.workflow.text import printable


def first_agency(settings: Settings) -> dict[str, Any]:
    """The first agency's row, made from the installation's ``DISCLOSURE_*`` settings (what
    migration 0007 inserts)."""
    return {
        "id": 1,
        "code": settings.agency_code,
        "name": settings.agency_name,
        "short_name": settings.agency_name[:20],
        "number_prefix": settings.agency_prefix,
        "address": settings.agency_address,
        "contact": settings.agency_contact,
        "phone": settings.agency_phone,
        "reconsideration_body": settings.reconsideration_body,
        "court": settings.court,
        "fee_scale": settings.fee_scale.value,
        "fee_payment": settings.fee_payment,
        "template_dir": str(settings.template_dir) if settings.template_dir else None,
        "created_at": datetime.now(UTC),
    }


def profile(row: Agency) -> AgencyProfile:
    return AgencyProfile(
        row.code, row.name, row.short_name, row.number_prefix, row.address, row.contact,
        row.phone, row.reconsideration_body, row.court, FeeScale(row.fee_scale),
        row.fee_payment, row.template_dir, row.retention_years,
    )  # fmt: skip


@dataclass(frozen=True)
class AgencyView:
    """An agency with how many cases it holds."""

    id: int
    profile: AgencyProfile
    cases: int


def add_agency(app: App, data: Mapping[str, Any]) -> AgencyView:
    """Register a department on the platform.

    Raises:
        RuleViolation: a field is wrong, or the code or 文号 prefix is already taken.
    """
    agency = validate_agency(data)
    with app.uow() as uow:
        session = uow.session
        for field, value in (("code", agency.code), ("number_prefix", agency.number_prefix)):
            if session.scalar(select(Agency.id).where(getattr(Agency, field) == value)):
                label = "机关代码" if field == "code" else "文号前缀"
                raise RuleViolation(field, "unique", f"{label}“{value}”已被其他机关使用")
        row = Agency(
            code=agency.code, name=agency.name, short_name=agency.short_name,
            number_prefix=agency.number_prefix, address=agency.address,
            contact=agency.contact, phone=agency.phone,
            reconsideration_body=agency.reconsideration_body, court=agency.court,
            fee_scale=agency.fee_scale.value, fee_payment=agency.fee_payment,
            template_dir=agency.template_dir, retention_years=agency.retention_years,
            created_at=app.now(),
        )  # fmt: skip
        session.add(row)
        uow.commit()
        return AgencyView(row.id, agency, 0)


def update_agency(app: App, code: str, changes: Mapping[str, Any]) -> AgencyView:
    """Change an agency's particulars (not its code). Letters already issued keep what they
    printed; new letters use the new values.

    Raises:
        NotFound: no such agency. RuleViolation: a changed field is wrong or taken.
    """
    if "code" in changes:
        raise RuleViolation("code", "immutable", "机关代码不能修改")
    with app.uow() as uow:
        session = uow.session
        row = agency_by_code(session, code)
        agency = validate_agency({**_fields(profile(row)), **changes})
        taken = session.scalar(
            select(Agency.id).where(
                Agency.number_prefix == agency.number_prefix, Agency.id != row.id
            )
        )
        if taken:
            raise RuleViolation(
                "number_prefix", "unique", f"文号前缀“{agency.number_prefix}”已被其他机关使用"
            )
        for field, value in _fields(agency).items():
            setattr(row, field, value)
        uow.commit()
        return AgencyView(row.id, agency, 0)


def _fields(agency: AgencyProfile) -> dict[str, Any]:
    fields = dict(vars(agency))
    fields["fee_scale"] = agency.fee_scale.value
    if agency.template_dir is None:
        del fields["template_dir"]
    return fields


def list_agencies(app: App) -> list[AgencyView]:
    with app.uow() as uow:
        counts = dict(
            uow.session.execute(select(Case.agency_id, func.count()).group_by(Case.agency_id)).all()
        )
        rows = uow.session.scalars(select(Agency).order_by(Agency.id))
        return [AgencyView(row.id, profile(row), int(counts.get(row.id, 0))) for row in rows]


def get_agency(app: App, code: str) -> AgencyView:
    with app.uow() as uow:
        row = agency_by_code(uow.session, code)
        count = uow.session.scalar(select(func.count()).where(Case.agency_id == row.id))
        return AgencyView(row.id, profile(row), int(count or 0))


def agency_by_code(session: Session, code: str) -> Agency:
    """The agency with that code. A code is plain ASCII: anything else is no agency and never
    reaches the driver (which would refuse a lone surrogate in English)."""
    valid = isinstance(code, str) and _CODE.fullmatch(code)
    row = session.scalar(select(Agency).where(Agency.code == code)) if valid else None
    if row is None:
        known = list(session.scalars(select(Agency.code).order_by(Agency.id).limit(11)))
        listed = "、".join(known[:10]) + ("等" if len(known) > 10 else "")
        raise NotFound(
            "agency", f"机关代码“{printable(str(code))[:40]}”不存在；已有：{listed or '无'}"
        )
    return row


_CODE = re.compile(r"[a-z][a-z0-9-]{1,19}")


# -- who may see and act for which agency -------------------------------------------------


def agency_ids_of(user: User) -> frozenset[int] | None:
    """The agencies a user works for; None for the county's (every agency)."""
    return None if user.all_agencies else frozenset(a.id for a in user.agencies)


def check_agency(user: User, agency_id: int, what: str) -> None:
    """Refuse a user who does not work for the agency (PermissionDenied, rule ``agency``)."""
    allowed = agency_ids_of(user)
    if allowed is not None and agency_id not in allowed:
        raise outsider(user.name, what)


def outsider(user_name: str, what: str) -> PermissionDenied:
    """The refusal of a user who does not work for the case's agency."""
    return PermissionDenied("agency_not_allowed", f"{user_name}不属于该案件所在机关，不能{what}")


def scope(session: Session, user: User | None, code: str | None) -> frozenset[int] | None:
    """The agencies a listing covers: ``code`` if given (and allowed), else all the user may
    see; None means every agency (the county, or the command line without a user)."""
    allowed = agency_ids_of(user) if user is not None else None
    if code is None:
        return allowed
    agency = agency_by_code(session, code)
    if allowed is not None and agency.id not in allowed:
        raise PermissionDenied(
            "agency_not_allowed",
            f"{user.name if user else ''}不属于机关“{agency.name}”，不能查看其案件",
        )
    return frozenset({agency.id})


def assign(app: App, user_name: str, codes: list[str], *, all_agencies: bool = False) -> None:
    """Say whom a user works for: the agencies ``codes``, or (county) every agency."""
    with app.uow() as uow:
        session = uow.session
        user = session.execute(select(User).where(User.name == user_name)).unique().scalar()
        if user is None:
            raise NotFound("name", f"用户“{printable(user_name)[:40]}”不存在")
        if all_agencies and user.role == "clerk":
            raise RuleViolation(
                "all_agencies", "role", "只有负责人或审计监督人员可以是县级（全部机关）用户"
            )
        user.agencies = [agency_by_code(session, code) for code in codes]
        user.all_agencies = all_agencies
        seal_user(user, app.settings.audit_keys)
        uow.commit()
