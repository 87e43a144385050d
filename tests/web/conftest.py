"""Web fixtures: the app of ``tests/conftest.py`` served by FastAPI, users with passwords,
and a signed-in ``TestClient`` per user (each with its own cookie jar)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
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


def sign_in(client: TestClient, name: str, password: str | None = None) -> str:
    """Sign ``client`` in as ``name``; returns the session's form token."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "name": name, "password": password or PASSWORDS[name]},
        follow_redirects=False,
    )
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
