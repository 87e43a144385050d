"""卷宗 on the web: an auditor downloads an archived case's file and checks an uploaded one
(issue #11)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from disclosure.services.unit_of_work import App
from tests.conftest import act


def _archived(service: App, case_id: int) -> None:
    act(service, case_id, "withdraw", "alice", "2026-11-20", reason="申请人书面撤回")
    act(service, case_id, "archive", "alice", "2026-11-23")


def test_an_auditor_downloads_the_file_and_checks_it_by_upload(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    _archived(service, case_id)
    dan = client_for("dan")
    page = dan.get(f"/cases/{case_id}")
    assert f'href="/cases/{case_id}/archive.zip"' in page.text
    download = dan.get(f"/cases/{case_id}/archive.zip")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    token = dan.csrf  # type: ignore[attr-defined]
    checked = dan.post(
        "/audit/archive-verify",
        data={"csrf_token": token},
        files={"file": ("case.zip", download.content, "application/zip")},
    )
    assert checked.status_code == 200 and "卷宗完整，未发现改动" in checked.text
    assert "签名与审计密钥相符" in checked.text
    assert "没有已办结的案件" not in checked.text  # the result alone, not an empty list
    damaged = bytearray(download.content)
    damaged[len(damaged) // 2] ^= 0xFF
    refused = dan.post(
        "/audit/archive-verify",
        data={"csrf_token": token},
        files={"file": ("case.zip", bytes(damaged), "application/zip")},
    )
    assert refused.status_code == 200 and "卷宗核验未通过" in refused.text


def test_the_upload_needs_its_form_token_and_a_file(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    dan = client_for("dan")
    forged = dan.post("/audit/archive-verify", files={"file": ("x.zip", b"PK", "application/zip")})
    assert forged.status_code == 403
    empty = dan.post("/audit/archive-verify", data={"csrf_token": dan.csrf})  # type: ignore[attr-defined]
    assert empty.status_code == 400 and "请选择要核验的卷宗文件" in empty.text


def test_a_clerk_gets_no_file_and_an_open_case_has_none(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    assert client_for("alice").get(f"/cases/{case_id}/archive.zip").status_code == 403
    not_yet = client_for("dan").get(f"/cases/{case_id}/archive.zip")
    assert not_yet.status_code == 400 and "尚未归档" in not_yet.text
