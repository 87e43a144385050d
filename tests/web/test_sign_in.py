"""Sign-in, sessions, CSRF, lock-out, rate limit, API tokens and the sign-in log (issue #10)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from starlette.testclient import TestClient

from disclosure.models.tables import AuthEvent, WebSession
from disclosure.services import auth, cases
from disclosure.services.unit_of_work import App
from disclosure.web.app import create_app
from disclosure.web.auth import SESSION_COOKIE
from tests.web.conftest import PASSWORDS, csrf_of, sign_in, sign_in_attempt


def _events(service: App) -> list[tuple[str, str]]:
    with service.uow() as uow:
        rows = uow.session.scalars(select(AuthEvent).order_by(AuthEvent.id))
        return [(e.user_name, e.event) for e in rows]


def test_a_page_signed_out_sends_the_browser_to_sign_in(client_for) -> None:
    response = client_for(None).get("/cases/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/cases/1"


def test_the_session_cookie_is_opaque_http_only_and_same_site(service: App, client_for) -> None:
    client = client_for(None)
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "name": "alice", "password": PASSWORDS["alice"], "next": "/"},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    value = client.cookies[SESSION_COOKIE]
    with service.uow() as uow:  # the table keeps only the token's hash
        stored = uow.session.scalars(select(WebSession.token_sha256)).all()
    assert value not in stored and len(stored) == 1


def test_secure_cookies_when_configured(service: App) -> None:
    service.settings = service.settings.model_copy(update={"secure_cookies": True})
    # A Secure cookie only travels over HTTPS, the sign-in form's token cookie included.
    client = TestClient(create_app(service), base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "name": "alice", "password": PASSWORDS["alice"]},
        follow_redirects=False,
    )
    assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_name_read_alike(service: App, client_for) -> None:
    client = client_for(None)
    for name, password in (("alice", "not-her-password"), ("nobody", "whatever-it-is")):
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"csrf_token": token, "name": name, "password": password}
        )
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
    assert _events(service)[-2:] == [("alice", "sign_in_failed"), ("nobody", "sign_in_failed")]


def test_the_sign_in_form_needs_its_token(client_for) -> None:
    client = client_for(None)
    client.get("/login")
    response = client.post("/login", data={"name": "alice", "password": PASSWORDS["alice"]})
    assert response.status_code == 403
    assert "防伪令牌" in response.text


def test_five_failures_lock_the_account_until_an_administrator_unlocks(
    service: App, client_for
) -> None:
    client = client_for(None)
    for _ in range(auth.MAX_FAILED_SIGN_INS):
        assert sign_in_attempt(client, "carol", "wrong-password-x").status_code == 401
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"csrf_token": token, "name": "carol", "password": PASSWORDS["carol"]}
    )
    assert response.status_code == 401
    assert "账户已锁定" in response.text  # told only with the right password
    assert ("carol", "locked") in _events(service)
    auth.unlock(service, "carol", by="root", channel=auth.Channel.CLI)
    assert sign_in_attempt(client, "carol", PASSWORDS["carol"]).status_code == 303


def test_sign_in_attempts_are_rate_limited_per_address(service: App) -> None:
    service.settings = service.settings.model_copy(update={"sign_in_attempts_per_minute": 3})
    client = TestClient(create_app(service))
    statuses = [
        sign_in_attempt(client, f"user{i}", "wrong-password-x").status_code for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_sign_out_revokes_the_session(client_for) -> None:
    client = client_for("alice")
    stolen = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, stolen)  # the old cookie, replayed
    assert client.get("/", follow_redirects=False).status_code == 303
    htmx = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401


def test_an_idle_session_times_out(service: App, client_for) -> None:
    client = client_for("alice")
    assert client.get("/", follow_redirects=False).status_code == 200
    later = service.now() + timedelta(minutes=service.settings.session_idle_minutes + 1)
    service.now = lambda: later
    assert client.get("/", follow_redirects=False).status_code == 303
    assert ("alice", "session_expired") in _events(service)


def test_a_form_post_without_its_token_is_refused(client_for, case_id: int) -> None:
    client = client_for("alice")
    response = client.post(f"/cases/{case_id}/actions/review", data={"expected_version": "1"})
    assert response.status_code == 403
    wrong = client.post(
        f"/cases/{case_id}/actions/review", data={"csrf_token": "x" * 43, "expected_version": "1"}
    )
    assert wrong.status_code == 403
    by_header = client.post(
        f"/cases/{case_id}/actions/review",
        data={"expected_version": "1"},
        headers={"X-CSRF-Token": client.csrf},
        follow_redirects=False,
    )
    assert by_header.status_code == 303


def test_a_next_address_off_the_site_is_ignored(client_for) -> None:
    client = client_for(None)
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "name": "alice",
            "password": PASSWORDS["alice"],
            "next": "https://evil.example/",
        },  # fmt: skip
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_setting_a_password_ends_the_sessions(service: App, client_for) -> None:
    client = client_for("alice")
    auth.set_password(service, "alice", "a-new-password-1", by="root", channel=auth.Channel.CLI)
    assert client.get("/", follow_redirects=False).status_code == 303
    fresh = TestClient(create_app(service))
    sign_in(fresh, "alice", "a-new-password-1")


def test_password_rules_name_the_rule(service: App) -> None:
    import pytest

    from disclosure.errors import RuleViolation

    for password, rule in (
        ("short", "min_length"),
        ("x" * 129, "max_length"),
        ("alice", "min_length"),
        ("alicealice", None),
        ("bad\x00password!", "control_character"),
    ):
        if rule is None:
            auth.check_password_rules(password, "bob")
            continue
        with pytest.raises(RuleViolation) as refused:
            auth.check_password_rules(password, "alice")
        assert refused.value.rule == rule and refused.value.field == "password"


def test_an_api_token_works_until_revoked_or_locked(service: App, client_for) -> None:
    client = client_for(None)
    token = auth.create_token(service, "alice", "对接", by="root", channel=auth.Channel.CLI)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).json()["name"] == "alice"
    [listed] = auth.tokens_of(service, "alice")
    assert listed.last_used_at is not None
    auth.revoke_token(service, "alice", listed.id, by="root", channel=auth.Channel.CLI)
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    second = auth.create_token(service, "alice", "第二个", by="root", channel=auth.Channel.CLI)
    auth.lock(service, "alice", by="root", channel=auth.Channel.CLI)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    )


def test_a_session_cookie_is_no_api_token(client_for) -> None:
    client = client_for("alice")
    assert client.get("/api/v1/me").status_code == 401


def test_a_database_without_users_says_how_to_make_an_administrator(app: App) -> None:
    page = TestClient(create_app(app)).get("/login")
    assert "disclosure user add" in page.text and "--role admin" in page.text


def test_a_password_is_kept_as_an_argon2id_hash_only(service: App) -> None:
    from disclosure.services.users import accounts

    with service.uow() as uow:
        stored = cases.user_named(uow.session, "alice")
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORDS["alice"] not in stored.password_hash
    listed = accounts(service, actor="root")  # the administrator's list shows no hash
    assert listed and all(not hasattr(a, "password_hash") for a in listed)
