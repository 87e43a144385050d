"""Web fixtures: the app of ``tests/conftest.py`` served by FastAPI, users with passwords,
and a signed-in ``TestClient`` per user (each with its own cookie jar)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from httpx2 import Response as TestResponse
from playwright.sync_api import Browser, sync_playwright
from starlette.testclient import TestClient

from disclosure.services import auth, cases
from disclosure.services.unit_of_work import App
from disclosure.web.app import create_app
from tests.conftest import application

TODAY = date(2026, 11, 24)
#: The users of the ``app`` fixture get these passwords; "root" is an administrator.
PASSWORDS = {name: f"{name}-secret-2026" for name in ("alice", "carol", "bob", "dan", "root")}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form token"
    return found.group(1)


def sign_in_attempt(client: TestClient, name: str, password: str) -> TestResponse:
    """One sign-in through the form (its token from the page): 303 signed in, 401 refused."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"csrf_token": token, "name": name, "password": password},
        follow_redirects=False,
    )


def sign_in(client: TestClient, name: str, password: str | None = None) -> str:
    """Sign ``client`` in as ``name``; returns the session's form token."""
    response = sign_in_attempt(client, name, password or PASSWORDS[name])
    assert response.status_code == 303, response.text[:500]
    return csrf_of(client.get("/").text)  # the header's sign-out form carries it


@pytest.fixture
def service(app: App) -> App:
    """The ``app`` fixture with today fixed, passwords set and an administrator."""
    app.settings = app.settings.model_copy(update={"today": TODAY})
    for name in ("alice", "carol", "bob", "dan"):
        auth.set_password(app, name, PASSWORDS[name], by="test", channel=auth.Channel.CLI)
    cases.add_user(app, "root", "admin", "管理员", all_agencies=True, password=PASSWORDS["root"])
    return app


@pytest.fixture
def client_for(service: App) -> Iterator[Callable[[str | None], TestClient]]:
    """``client_for(name)``: a client signed in as ``name`` (None: signed out)."""
    web = create_app(service)
    clients: list[TestClient] = []

    def make(name: str | None) -> TestClient:
        client = TestClient(web)
        clients.append(client)
        if name is not None:
            client.csrf = sign_in(client, name)  # type: ignore[attr-defined]
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def case_id(service: App) -> int:
    """A registered case of the first agency (received 2026-11-20)."""
    return cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)


CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SCREENS = ((1366, 768), (1920, 1080))
#: Chromium's own calls home are refused on these machines: switch them off.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN",
]  # fmt: skip


@pytest.fixture
def server(service: App) -> Iterator[str]:
    """The web application on a free port of 127.0.0.1, in a thread of this process."""
    cases.add_user(service, "frank", "supervisor", "吴刚", password="frank-secret-2026")
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=0, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        threading.Event().wait(0.05)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "make test installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
