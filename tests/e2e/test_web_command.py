"""``disclosure web`` and the account commands as an administrator runs them on the server."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    run = Cli(f"sqlite:///{tmp_path / 'web.db'}")
    run("db", "upgrade")
    return run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_bad_port_is_refused_in_chinese(cli: Cli) -> None:
    result = cli("web", "--port", "0", expect=2)
    assert "--port" in result.stderr and "不小于1" in result.stderr


def test_web_serves_until_interrupted_and_says_how_to_add_an_administrator(cli: Cli) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "disclosure", "web", "--port", str(port), "--no-scheduler"],
        env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        page = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as reply:
                    page = reply.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.2)
        assert page is not None and "--role admin" in page
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "还没有可以登录的用户" in out and "Traceback" not in out + err


def test_user_add_takes_the_password_from_stdin_and_the_api_token_works(cli: Cli) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "disclosure", "user", "add", "root", "--role", "admin",
         "--display-name", "管理员", "--county", "--password-stdin"],
        input="a-long-password-1\n", capture_output=True, text=True, env=cli.env, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    short = subprocess.run(
        [sys.executable, "-m", "disclosure", "user", "password", "root", "--password-stdin"],
        input="short\n", capture_output=True, text=True, env=cli.env, timeout=60,
    )  # fmt: skip
    assert short.returncode == 2 and "密码至少10个字符" in short.stderr
    no_terminal = cli("user", "password", "root", expect=2)
    assert "--password-stdin" in no_terminal.stderr
    cli("user", "add", "alice", "--role", "clerk")
    token = cli("user", "token", "alice", "--label", "档案系统").stdout.strip().splitlines()[-1]
    assert token.startswith("dsc_")
    listed = cli("user", "tokens", "alice").stdout
    assert "档案系统" in listed and token not in listed
    cli("user", "revoke-token", "alice", "--token", "1")
    assert "已撤销" in cli("user", "tokens", "alice").stdout


def test_the_trail_records_the_cli_channel_and_the_operating_system_user(cli: Cli) -> None:
    import getpass

    cli("user", "add", "alice", "--role", "clerk")
    from tests.e2e.test_cli import _register

    case_id = _register(cli, "2026-11-20")
    cli("case", "review", str(case_id), "--as", "alice", "--on", "2026-11-20")
    shown = json.loads(cli("case", "show", str(case_id), "--format", "json").stdout)
    assert shown["state"] == "under_review"
    from disclosure.config import Settings
    from disclosure.services import cases
    from disclosure.services.unit_of_work import App

    app = App.open(Settings.from_env(database_url=cli.env["DISCLOSURE_DATABASE_URL"]))
    try:
        trail = cases.get_case(app, case_id).trail
    finally:
        app.close()
    for entry in trail:
        assert json.loads(entry.payload)["via"] == {"channel": "cli", "os_user": getpass.getuser()}
