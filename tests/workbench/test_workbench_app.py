"""The workbench's door: who gets in, what everyone else sees, CSRF, loopback."""
from __future__ import annotations

import re

import pytest

from tests.workbench.conftest import TrainerClient

SECTIONS = {"/inbox": "Непонятые сообщения", "/conversations": "Разговоры", "/responses": "Ответы",
            "/training": "Обучение", "/changes": "Изменения"}


def test_a_trainer_signs_in_through_the_form_and_sees_the_sections(workbench, make_account):
    make_account("trainer")
    client = TrainerClient(workbench.url)
    reply = client.login_form("trainer", next_="/inbox")
    assert reply.status_code == 200 and reply.url.endswith("/inbox")
    home = client.get("/")
    assert home.status_code == 200
    assert "Мастерская тренеров" in home.text and "Trainer (trainer)" in home.text
    for path, label in SECTIONS.items():
        assert f'href="{path}"' in home.text and label in home.text


@pytest.mark.parametrize("path", sorted(SECTIONS))
def test_every_section_is_a_built_page(workbench_config, signed_in, path):
    """Each section's real module replaced its stub (workbench/pages/stub.py)."""
    from fakes.tracker_seed import seed_tracker

    seed_tracker(workbench_config.tracker_url)
    page = signed_in("trainer").get(path)
    assert page.status_code == 200
    assert "Раздел в разработке" not in page.text and SECTIONS[path] in page.text


def test_an_admin_without_the_trainer_role_may_use_the_workbench(signed_in):
    assert signed_in("boss", trainer=False, operator=True, admin=True).get("/").status_code == 200


def test_an_operator_without_the_role_is_told_politely_in_russian(workbench, make_account, db_url):
    make_account("anna", trainer=False, operator=True)
    client = TrainerClient(workbench.url)
    api = client.login("anna")
    assert api.status_code == 403 and "нет роли тренера" in api.json()["error"]
    page = client.login_form("anna")
    assert page.status_code == 403
    assert "нет роли тренера" in page.text and "администратора" in page.text
    assert "hotline_workbench" not in client.http.cookies  # no session was opened
    # A wrong password is still just a wrong password: the role is only told to the account's owner.
    assert TrainerClient(workbench.url).login("anna", "wrong-password-1").status_code == 401


def test_a_revoked_role_closes_the_door_on_the_next_request(workbench, make_account, db_url):
    from handoff.admin import set_trainer

    make_account("petr")
    client = TrainerClient(workbench.url)
    assert client.login("petr").status_code == 200
    set_trainer("petr", False, via="cli", url=db_url)
    page = client.get("/inbox")
    assert page.status_code == 403 and "нет роли тренера" in page.text
    assert 'action="/logout"' in page.text  # signing out stays possible
    assert client.post("/api/logout", json={}).status_code == 200


def test_anonymous_visitors_are_sent_to_the_login_page(workbench):
    client = TrainerClient(workbench.url)
    reply = client.get("/training", allow_redirects=False)
    assert reply.status_code == 303 and reply.headers["Location"].startswith("/login?next=/training")
    login = client.get("/login")
    assert login.status_code == 200 and "Вход для тренеров" in login.text
    assert client.get("/api/me").status_code == 401


def test_a_post_without_the_csrf_token_is_refused(signed_in):
    client = signed_in("trainer")
    refused = client.post("/logout", data={}, csrf=False, allow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert client.get("/").status_code == 200  # still signed in
    foreign = client.post("/api/logout", json={}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert client.post("/api/logout", json={}).status_code == 200


def test_pages_carry_the_strict_headers_and_no_inline_script(signed_in):
    page = signed_in("trainer").get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert 'name="csrf-token"' in page.text


def test_sign_ins_are_audited_as_the_workbench(signed_in, db_url):
    from handoff import repository as repo

    signed_in("trainer")
    entries = repo.audit_entries(10, url=db_url)
    assert any(e.action == "login" and e.via == "workbench" for e in entries)


def _listening_addresses(port: int):
    """Local addresses listening on `port`, from the kernel's socket tables."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_python_m_workbench_listens_on_loopback_only(tmp_path):
    import os
    import subprocess
    import sys
    import time

    import requests

    from hotline.ops.ports import free_port
    from hotline.paths import ROOT

    port = free_port()
    # No host given anywhere: the default must be loopback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'accounts.db'}", WORKBENCH_PORT=str(port))
    server = subprocess.Popen([sys.executable, "-m", "workbench"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        assert _listening_addresses(port) == ["0100007F"]  # 127.0.0.1, nothing else
        assert requests.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=5).status_code == 303
    finally:
        server.terminate()
        server.wait(30)
    assert "Мастерская тренеров: http://127.0.0.1:" in server.stdout.read()
