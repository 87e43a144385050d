"""用户管理 (issue #10): an administrator adds users, sets their role, name and agencies,
resets passwords and locks accounts, with plain forms; nobody else may, on the page or in
the service, and the platform always keeps an administrator who can sign in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from disclosure.errors import PermissionDenied, RuleViolation
from disclosure.services import auth, cases, users
from disclosure.services.agencies import add_agency
from disclosure.services.auth import Channel
from disclosure.services.demo import DEMO_AGENCIES
from disclosure.services.unit_of_work import App
from tests.web.conftest import PASSWORDS, csrf_of, sign_in, sign_in_attempt

Clients = Callable[[str | None], TestClient]
NEW_PASSWORD = "a-brand-new-pass-1"


def _post(client: TestClient, path: str, **fields: Any) -> Any:
    data = {"csrf_token": getattr(client, "csrf", ""), **fields}
    return client.post(path, data=data, follow_redirects=False)


def _log(service: App, event: str) -> list[tuple[str, str, str]]:
    """The sign-in log's ``event`` rows, oldest first: (user, channel, detail)."""
    return [
        (e.user_name, e.channel, e.detail)
        for e in reversed(auth.auth_log(service))
        if e.event == event
    ]


def _first_agency(service: App) -> str:
    return service.settings.agency_code


def _account(service: App, name: str) -> users.Account:
    return users.account(service, name, actor="root")


# -- the role matrix ----------------------------------------------------------------------

ROLES = (None, "alice", "bob", "dan", "root")  # signed out, clerk, supervisor, auditor, admin
ADMIN_GET = {None: 303, "alice": 403, "bob": 403, "dan": 403, "root": 200}
ADMIN_POST = {None: 303, "alice": 403, "bob": 403, "dan": 403, "root": 303}


def _target(service: App, n: int) -> str:
    """A user of its own for each request of the matrix (a lock must not meet a lock)."""
    name = f"target{n}"
    cases.add_user(service, name, "clerk", "靶子")
    return name


def _body(kind: str, n: int, agency: str) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "": {},
        "add": {
            "name": f"new{n}", "display_name": "新用户", "role": "clerk", "agencies": [agency],
            "password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
        },
        "change": {"display_name": "改名", "role": "auditor", "agencies": [agency]},
        "password": {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    }  # fmt: skip
    return bodies[kind]


ROUTES: list[tuple[str, str, str, dict[str | None, int]]] = [
    ("GET", "/admin", "", ADMIN_GET),
    ("GET", "/admin/users/{user}", "", ADMIN_GET),
    ("POST", "/admin/users", "add", ADMIN_POST),
    ("POST", "/admin/users/{user}", "change", ADMIN_POST),
    ("POST", "/admin/users/{user}/password", "password", ADMIN_POST),
    ("POST", "/admin/users/{user}/lock", "", ADMIN_POST),
    ("POST", "/admin/users/{user}/unlock", "", ADMIN_POST),
]


@pytest.mark.parametrize(
    "method,path,body,expected", ROUTES, ids=[f"{route[0]} {route[1]}" for route in ROUTES]
)
def test_only_administrators_reach_user_management(
    service: App, client_for: Clients, method: str, path: str, body: str,
    expected: dict[str | None, int],
) -> None:  # fmt: skip
    got = {}
    for n, role in enumerate(ROLES):
        client = client_for(role)
        url = path.format(user=_target(service, n))
        data = {"csrf_token": getattr(client, "csrf", ""), **_body(body, n, _first_agency(service))}
        kwargs: dict[str, Any] = {"follow_redirects": False}
        if method == "POST":
            kwargs["data"] = data
        response = client.request(method, url, **kwargs)
        got[role] = response.status_code
        if role is None:
            assert response.headers["location"].startswith("/login?next=")
        elif response.status_code == 303:
            assert response.headers["location"].startswith("/admin")
    assert got == expected


def test_the_home_page_of_an_administrator_is_user_management(client_for: Clients) -> None:
    home = client_for("root").get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/admin"


@pytest.mark.parametrize(
    "path", ["/admin/users", "/admin/users/carol", "/admin/users/carol/password",
             "/admin/users/carol/lock", "/admin/users/carol/unlock"],
)  # fmt: skip
def test_a_form_without_its_token_is_refused(service: App, client_for: Clients, path: str) -> None:
    admin = client_for("root")
    fields = {"name": "mallory", "display_name": "X", "role": "admin",
              "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}  # fmt: skip
    assert admin.post(path, data=fields, follow_redirects=False).status_code == 403
    forged = admin.post(path, data={**fields, "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert "mallory" not in [a.name for a in users.accounts(service, actor="root")]
    carol = _account(service, "carol")
    assert carol.role.value == "clerk" and not carol.locked


def test_the_services_check_the_actor_again(service: App) -> None:
    code = _first_agency(service)
    for actor in ("bob", "nobody"):
        with pytest.raises(PermissionDenied):
            users.accounts(service, actor=actor)
        with pytest.raises(PermissionDenied):
            users.change_account(
                service, "carol", role="admin", display_name="陈静", agencies=[code],
                all_agencies=False, actor=actor, channel=Channel.WEB,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            users.add_account(
                service, "eve", "admin", "X", agencies=[], all_agencies=True,
                password=NEW_PASSWORD, actor=actor, channel=Channel.WEB,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            users.reset_password(service, "root", NEW_PASSWORD, actor=actor, channel=Channel.WEB)
        with pytest.raises(PermissionDenied):
            users.lock_account(service, "root", actor=actor, channel=Channel.WEB)
        with pytest.raises(PermissionDenied):
            users.unlock_account(service, "carol", actor=actor, channel=Channel.WEB)
    assert _account(service, "carol").role.value == "clerk"


# -- the list and adding a user -----------------------------------------------------------


def test_the_list_shows_every_user_with_role_agencies_lock_and_password(
    service: App, client_for: Clients
) -> None:
    cases.add_user(service, "nopw", "auditor", "无密码", all_agencies=True)
    auth.lock(service, "carol", by="test", channel=Channel.CLI)
    page = client_for("root").get("/admin")
    assert page.status_code == 200
    rows = {
        chunk.split("<td>", 1)[1].split("</td>", 1)[0]: chunk
        for chunk in page.text.split("<tr>")
        if "<td>" in chunk
    }
    assert "经办人" in rows["carol"] and "已锁定" in rows["carol"]
    assert "审计监督" in rows["nopw"] and "未设置" in rows["nopw"] and "<td>是</td>" in rows["nopw"]
    assert "系统管理员" in rows["root"] and "已设置" in rows["root"]
    assert service.settings.agency_name in rows["alice"]
    assert 'href="/admin/users/alice"' in page.text


def test_an_administrator_adds_a_user_who_then_signs_in(service: App, client_for: Clients) -> None:
    admin = client_for("root")
    form = admin.get("/admin").text
    assert 'name="csrf_token"' in form and "新增用户" in form and "初始密码" in form
    assert f'value="{_first_agency(service)}"' in form  # the agencies to choose from
    done = _post(
        admin, "/admin/users", name="erin", display_name="郑红", role="clerk",
        agencies=[_first_agency(service)], password=NEW_PASSWORD, password_again=NEW_PASSWORD,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/admin?done=added&user=erin"
    listing = admin.get(done.headers["location"])
    assert "已新增用户“erin”" in listing.text and "郑红" in listing.text
    erin = TestClient(admin.app)
    sign_in(erin, "erin", NEW_PASSWORD)
    assert erin.get("/").status_code == 200
    assert erin.get("/cases/new").status_code == 200  # a clerk registers applications
    assert ("erin", "web", f"clerk {_first_agency(service)} by root") in _log(service, "user_added")


def test_a_county_supervisor_of_several_agencies(service: App, client_for: Clients) -> None:
    add_agency(service, DEMO_AGENCIES[0])
    second = DEMO_AGENCIES[0]["code"]
    admin = client_for("root")
    done = _post(
        admin, "/admin/users", name="fay", display_name="方芳", role="supervisor",
        agencies=[_first_agency(service), second, second], all_agencies="1",
        password=NEW_PASSWORD, password_again=NEW_PASSWORD,
    )  # fmt: skip
    assert done.status_code == 303
    fay = _account(service, "fay")
    assert fay.all_agencies and set(fay.agencies) == {_first_agency(service), second}


ADD_OK = {
    "name": "erin", "display_name": "郑<b>红</b>", "role": "clerk", "agencies": [],
    "password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
}  # fmt: skip


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"name": "bad name!"}, "name", "用户名须为1至40个英文字母、数字或 _ . -"),
        ({"name": "alice"}, "name", "用户“alice”已存在"),
        ({"role": "boss"}, "role", "角色“boss”无效"),
        ({"password": "short", "password_again": "short"}, "password", "密码至少10个字符"),
        ({"password": "", "password_again": ""}, "password", "请输入密码"),
        ({"password_again": "something-else"}, "password_again", "两次输入的密码不一致"),
        ({"agencies": ["nosuch"]}, "agencies", "机关代码“nosuch”不存在"),
        ({"all_agencies": "1"}, "all_agencies", "经办人不能是县级（全部机关）用户"),
        ({"display_name": "x" * 61}, "display_name", "姓名"),
    ],
)
def test_a_refused_user_is_shown_next_to_the_field_with_what_was_typed(
    service: App, client_for: Clients, change: dict[str, Any], field: str, message: str
) -> None:
    admin = client_for("root")
    typed = {**ADD_OK, **change}
    refused = _post(admin, "/admin/users", **typed)
    assert refused.status_code == 400
    page = refused.text
    assert f'id="add-{field}-error"' in page and message in page
    error_at = page.index(f'id="add-{field}-error"')
    assert page.rfind(f'aria-describedby="add-{field}-error"', 0, error_at) != -1
    if field != "name":  # what was typed comes back (passwords excepted)
        assert 'value="erin"' in page
    if field != "display_name":
        assert 'value="郑&lt;b&gt;红&lt;/b&gt;"' in page
    assert "<b>红</b>" not in page and NEW_PASSWORD not in page
    if field == "role":
        assert 'value="clerk" selected' not in page
    if field == "all_agencies":
        assert 'name="all_agencies" value="1" checked' in page
    assert "erin" not in [a.name for a in users.accounts(service, actor="root")]


def test_typed_text_is_escaped_in_the_list(service: App, client_for: Clients) -> None:
    admin = client_for("root")
    done = _post(admin, "/admin/users", **{**ADD_OK, "agencies": [_first_agency(service)]})
    assert done.status_code == 303
    page = admin.get("/admin").text
    assert "郑&lt;b&gt;红&lt;/b&gt;" in page and "<b>红</b>" not in page


# -- one user: role, name and agencies ----------------------------------------------------


def test_a_new_role_takes_effect_on_what_the_user_may_open(
    service: App, client_for: Clients
) -> None:
    admin, alice = client_for("root"), client_for("alice")
    code = _first_agency(service)
    assert alice.get("/approvals").status_code == 403
    page = admin.get("/admin/users/alice")
    assert page.status_code == 200 and 'value="clerk" selected' in page.text
    done = _post(
        admin, "/admin/users/alice", display_name="王晓梅", role="supervisor", agencies=[code]
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/users/alice?done=changed"
    assert "已保存“alice”的角色、姓名和所属机关" in admin.get(done.headers["location"]).text
    assert alice.get("/approvals").status_code == 200  # the same session, the new role
    _post(admin, "/admin/users/alice", display_name="王晓梅", role="auditor", agencies=[code])
    assert alice.get("/cases/new").status_code == 403
    assert alice.get("/audit").status_code == 200
    _post(admin, "/admin/users/alice", display_name="王晓梅", role="admin", agencies=[code])
    assert alice.get("/admin").status_code == 200
    assert [d for _u, _c, d in _log(service, "role_changed")] == [
        "clerk → supervisor by root", "supervisor → auditor by root", "auditor → admin by root",
    ]  # fmt: skip


def test_name_and_agencies_change_and_are_logged(service: App, client_for: Clients) -> None:
    add_agency(service, DEMO_AGENCIES[0])
    first, second = _first_agency(service), DEMO_AGENCIES[0]["code"]
    admin = client_for("root")
    done = _post(
        admin, "/admin/users/bob", display_name="李建国（县）", role="supervisor",
        agencies=[first, second],
    )  # fmt: skip
    assert done.status_code == 303
    bob = _account(service, "bob")
    assert bob.display_name == "李建国（县）" and set(bob.agencies) == {first, second}
    assert _log(service, "name_changed") == [("bob", "web", "by root")]
    assert _log(service, "agencies_changed") == [
        ("bob", "web", f"{first} → {','.join(sorted([first, second]))} by root")
    ]
    assert not _log(service, "role_changed")
    again = _post(
        admin, "/admin/users/bob", display_name="李建国（县）", role="supervisor",
        agencies=[second, first],
    )  # fmt: skip
    assert again.headers["location"] == "/admin/users/bob?done=unchanged"


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"role": "clerk", "all_agencies": "1"}, "all_agencies", "经办人不能是县级"),
        ({"agencies": ["nosuch"]}, "agencies", "机关代码“nosuch”不存在"),
        ({"display_name": ""}, "display_name", "姓名"),
        ({"role": "boss"}, "role", "角色“boss”无效"),
    ],
)
def test_a_refused_change_keeps_what_was_typed(
    service: App, client_for: Clients, change: dict[str, Any], field: str, message: str
) -> None:
    admin = client_for("root")
    typed = {"display_name": "陈<i>静</i>", "role": "supervisor", "agencies": [], **change}
    refused = _post(admin, "/admin/users/carol", **typed)
    assert refused.status_code == 400
    assert f'id="edit-{field}-error"' in refused.text and message in refused.text
    if field != "display_name":
        assert 'value="陈&lt;i&gt;静&lt;/i&gt;"' in refused.text
    if field not in ("role",):
        assert f'value="{typed["role"]}" selected' in refused.text
    carol = _account(service, "carol")
    assert carol.display_name == "陈静" and carol.role.value == "clerk"


def test_an_unknown_user_is_not_found(client_for: Clients) -> None:
    admin = client_for("root")
    assert admin.get("/admin/users/nobody").status_code == 404
    assert _post(admin, "/admin/users/nobody/lock").status_code == 404
    assert admin.get("/admin/users/<script>").status_code in (404, 422)


# -- the last administrator ---------------------------------------------------------------


def test_the_last_administrator_cannot_demote_or_lock_themselves(
    service: App, client_for: Clients
) -> None:
    admin = client_for("root")
    code = _first_agency(service)
    page = admin.get("/admin/users/root").text
    assert "不能锁定自己的账户" in page and "/admin/users/root/lock" not in page
    demoted = _post(
        admin, "/admin/users/root", display_name="管理员", role="clerk", agencies=[code]
    )
    assert demoted.status_code == 400
    assert 'id="edit-role-error"' in demoted.text and "唯一能登录的系统管理员" in demoted.text
    locked = _post(admin, "/admin/users/root/lock")
    assert locked.status_code == 400 and "不能锁定自己的账户" in locked.text
    root = _account(service, "root")
    assert root.role.value == "admin" and not root.locked
    assert admin.get("/admin").status_code == 200  # still signed in, still an administrator
    # With a second administrator who can sign in, one may hand over and step down.
    cases.add_user(service, "root2", "admin", "管理员二", all_agencies=True, password=NEW_PASSWORD)
    # ... but a locked or password-less one does not count.
    auth.lock(service, "root2", by="test", channel=Channel.CLI)
    again = _post(admin, "/admin/users/root", display_name="管理员", role="clerk", agencies=[code])
    assert again.status_code == 400
    auth.unlock(service, "root2", by="test", channel=Channel.CLI)
    stepped = _post(
        admin, "/admin/users/root", display_name="管理员", role="auditor", agencies=[code]
    )
    assert stepped.status_code == 303
    assert admin.get("/admin").status_code == 403  # no longer an administrator
    assert _account_as(service, "root2", "root").role.value == "auditor"
    # root2 is now the last: it may not be demoted by itself either.
    with pytest.raises(RuleViolation, match="唯一能登录的系统管理员"):
        users.change_account(
            service, "root2", role="clerk", display_name="管理员二", agencies=[code],
            all_agencies=False, actor="root2", channel=Channel.WEB,
        )  # fmt: skip


def _account_as(service: App, actor: str, name: str) -> users.Account:
    return users.account(service, name, actor=actor)


# -- passwords and locks ------------------------------------------------------------------


def test_a_reset_password_ends_the_sessions_and_replaces_the_old_one(
    service: App, client_for: Clients
) -> None:
    admin, alice = client_for("root"), client_for("alice")
    assert alice.get("/").status_code == 200
    done = _post(
        admin, "/admin/users/alice/password", password=NEW_PASSWORD, password_again=NEW_PASSWORD
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/users/alice?done=password"
    assert "已为“alice”设置新密码" in admin.get(done.headers["location"]).text
    ended = alice.get("/", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    fresh = TestClient(admin.app)
    assert sign_in_attempt(fresh, "alice", PASSWORDS["alice"]).status_code == 401
    assert sign_in_attempt(fresh, "alice", NEW_PASSWORD).status_code == 303
    assert ("alice", "web", "by root") in _log(service, "password_set")


@pytest.mark.parametrize(
    "typed,field,message",
    [
        ({"password": "short", "password_again": "short"}, "password", "密码至少10个字符"),
        ({"password": "alice", "password_again": "alice"}, "password", "密码至少10个字符"),
        ({"password": "", "password_again": ""}, "password", "请输入密码"),
        ({"password": NEW_PASSWORD, "password_again": "x"}, "password_again", "两次输入的密码不一致"),
    ],
)  # fmt: skip
def test_a_refused_password_is_shown_next_to_the_field(
    service: App, client_for: Clients, typed: dict[str, str], field: str, message: str
) -> None:
    admin, alice = client_for("root"), client_for("alice")
    refused = _post(admin, "/admin/users/alice/password", **typed)
    assert refused.status_code == 400
    assert f'id="pw-{field}-error"' in refused.text and message in refused.text
    assert NEW_PASSWORD not in refused.text
    assert alice.get("/").status_code == 200  # nothing changed, the session lives


def test_a_locked_user_cannot_sign_in_until_unlocked(service: App, client_for: Clients) -> None:
    admin, carol = client_for("root"), client_for("carol")
    done = _post(admin, "/admin/users/carol/lock")
    assert done.status_code == 303 and done.headers["location"] == "/admin/users/carol?done=locked"
    page = admin.get(done.headers["location"]).text
    assert "已锁定“carol”" in page and "/admin/users/carol/unlock" in page
    assert carol.get("/", follow_redirects=False).status_code == 303  # the session ended
    fresh = TestClient(admin.app)
    assert sign_in_attempt(fresh, "carol", PASSWORDS["carol"]).status_code == 401
    assert (
        "账户已锁定"
        in fresh.post(
            "/login",
            data={
                "csrf_token": csrf_of(fresh.get("/login").text),
                "name": "carol",
                "password": PASSWORDS["carol"],
            },  # fmt: skip
        ).text
    )
    done = _post(admin, "/admin/users/carol/unlock")
    assert done.status_code == 303
    assert "已解除“carol”的锁定" in admin.get(done.headers["location"]).text
    assert sign_in_attempt(fresh, "carol", PASSWORDS["carol"]).status_code == 303
    assert ("carol", "web", "by root") in _log(service, "locked")
    assert ("carol", "web", "by root") in _log(service, "unlocked")


def test_another_administrator_may_be_locked(service: App, client_for: Clients) -> None:
    cases.add_user(service, "root2", "admin", "管理员二", all_agencies=True, password=NEW_PASSWORD)
    admin = client_for("root")
    assert _post(admin, "/admin/users/root2/lock").status_code == 303
    assert _account(service, "root2").locked
