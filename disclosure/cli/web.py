"""``disclosure web``: the web workbench and HTTP API on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from disclosure.cli.app import app, open_app
from disclosure.cli.console import out, safe


@app.command("web")
def web(
    host: Annotated[
        str, typer.Option(help="监听地址；对外提供服务时请置于 HTTPS 反向代理之后")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口", min=1, max=65535)] = 8000,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="在本进程内运行期限扫描")
    ] = True,
) -> None:
    """启动网页工作台与 HTTP 接口（Ctrl-C 停止）。多个进程可共用一个 PostgreSQL 数据库。"""
    import logging

    import uvicorn

    from disclosure.services.auth import has_users
    from disclosure.web.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    service = open_app()
    if not has_users(service):
        out.print(
            "提示：还没有可以登录的用户。请先运行 disclosure user add 用户名 --role admin "
            "--display-name 姓名 创建管理员。"
        )
    out.print(f"网页工作台：http://{safe(host)}:{port}/  （HTTP 接口：/api/v1/，Ctrl-C 停止）")
    uvicorn.run(
        create_app(service, with_scheduler=scheduler),
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # a request line's query string may hold personal data
    )
