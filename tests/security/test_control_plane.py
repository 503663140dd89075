"""No open control plane, in `make run` too (issue 11, items 2 and 8).

Against scripts/run.sh started as a developer starts it (trust_stack.py):
Rasa's HTTP API refuses every call without a bearer token signed with the
generated key (also ``?token=`` with the key itself, and tokens signed with
another key); CORS answers only the widget's page; only Rasa's port listens
beyond loopback; no secret is on any command line or in the banner, and the
first admin password is shown once. The production profile's Rasa command
is checked the same way without starting it.
"""
from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import requests

from trust_stack import embedded_run

pytestmark = pytest.mark.slow

API_ROUTES = [
    ("GET", "/status"),
    ("GET", "/conversations/telegram_700000010/tracker"),
    ("POST", "/conversations/telegram_700000010/tracker/events"),
    ("PUT", "/conversations/telegram_700000010/tracker/events"),
    ("POST", "/conversations/telegram_700000010/messages"),
    ("POST", "/conversations/telegram_700000010/trigger_intent"),
    ("POST", "/conversations/telegram_700000010/predict"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
    ("GET", "/domain"),
]
SECRETS = ("rasa-api.secret", "webchat.secret", "handoff.secret", "voice-channel.secret")


@pytest.fixture(scope="module")
def run(trained_model):
    return embedded_run(trained_model)


@pytest.mark.parametrize("method,path", API_ROUTES)
def test_api_without_a_valid_token_is_refused(run, method, path):
    from hotline.rasa_api import bearer_token

    url = f"{run.url}{path}"
    body = {"name": "greet", "text": "привет", "event": "user"}
    assert requests.request(method, url, json=body, timeout=30).status_code == 401
    # The key itself in the URL (Rasa's ?token=) is not a way in: URLs end up in logs.
    assert requests.request(method, url, params={"token": run.secret("rasa-api.secret")}, json=body,
                            timeout=30).status_code == 401
    forged = bearer_token("a-key-the-attacker-made-up-0123456789")
    assert requests.request(method, url, json=body, headers={"Authorization": f"Bearer {forged}"},
                            timeout=30).status_code == 401


def test_api_with_the_generated_key_works_and_the_key_file_is_private(run):
    reply = requests.get(f"{run.url}/conversations/rest_nobody/tracker", auth=run.api_auth(), timeout=30)
    assert reply.status_code == 200 and reply.json()["sender_id"] == "rest_nobody"
    for name in SECRETS:
        path = run.root / "var" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert (run.root / "var" / "rasa-api.secret").exists()


def test_cors_answers_only_the_widgets_page(run):
    url = f"{run.url}/conversations/rest_nobody/tracker"
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    foreign = requests.options(url, headers={"Origin": "https://evil.example", **preflight}, timeout=30)
    assert "Access-Control-Allow-Origin" not in foreign.headers
    foreign = requests.get(f"{run.url}/webhooks/rest/", headers={"Origin": "https://evil.example"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in foreign.headers
    demo = requests.get(f"{run.url}/webhooks/rest/", headers={"Origin": run.demo_origin}, timeout=30)
    assert demo.headers.get("Access-Control-Allow-Origin") == run.demo_origin


def test_only_the_public_port_listens_beyond_loopback(run):
    listening = run.listening()
    rasa_port = run.ports["RASA_PORT"]
    assert rasa_port in listening
    assert {run.ports["ACTION_PORT"], run.ports["WEBCHAT_PORT"], run.ports["HANDOFF_CONSOLE_PORT"]} <= set(listening)
    public = {port for port, address in listening.items() if address not in ("127.0.0.1", "::1")}
    assert public == {rasa_port}, listening
    # The action server runs no action for a stranger from another host: it is not reachable there.
    assert listening[run.ports["ACTION_PORT"]] == "127.0.0.1"


def test_no_secret_on_any_command_line_or_in_the_banner(run):
    secrets = [run.secret(name) for name in SECRETS if (run.root / "var" / name).exists()]
    assert secrets
    for pid in run.pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except FileNotFoundError:
            continue
        assert not any(s in argv for s in secrets), argv
        assert "--auth-token" not in argv and "--jwt-secret" not in argv
    banner = run.output()
    assert not any(s in banner for s in secrets)
    admin_login, admin_password = (run.root / "var" / "console-admin.txt").read_text().split("\n")[:2]
    assert banner.count(admin_password) == 1  # shown when created, never re-printed by the banner
    # The next start: the admin exists, nothing is printed again.
    again = subprocess.run([".venv/bin/python", "-m", "handoff.admin", "ensure-admin", "--password-file",
                            "var/console-admin.txt"], cwd=run.root, env=run.env, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and admin_password not in again.stdout + again.stderr


def test_production_rasa_command_keeps_the_key_off_argv_and_on_loopback(tmp_path, monkeypatch):
    from hotline.ops.supervisor import ProdConfig, ProdProfile

    monkeypatch.setenv("RASA_API_TOKEN", "prod-key-for-this-test-0123456789abcdef")
    profile = ProdProfile(ProdConfig.ephemeral(tmp_path))
    profile.config.model = tmp_path / "model.tar.gz"
    profile.config.model.write_bytes(b"")
    command = profile.rasa_command(0)
    assert "prod-key-for-this-test-0123456789abcdef" not in " ".join(command)
    assert command[1:3] == ["-m", "hotline.rasa_server"]
    assert command[command.index("--interface") + 1] == "127.0.0.1" and "--auth-token" not in command
    assert profile.config.api_token == "prod-key-for-this-test-0123456789abcdef"
    assert "prod-key-for-this-test" not in profile.banner()


def test_launcher_refuses_secrets_on_its_command_line():
    from hotline.rasa_server import rasa_argv

    for flag in ("--auth-token", "--jwt-secret", "--auth-token=abc"):
        with pytest.raises(SystemExit):
            rasa_argv(["run", flag, "abc"], "key", {})
    argv = rasa_argv(["run", "--port", "5005"], "the-key", {"WEBCHAT_PORT": "8081"})
    assert argv[argv.index("--cors") + 1:argv.index("--cors") + 3] == ["http://localhost:8081",
                                                                       "http://127.0.0.1:8081"]
    assert argv[-3:] == ["--jwt-secret=the-key", "--jwt-method", "HS256"]  # in-process only


def test_a_key_that_starts_with_a_dash_reaches_rasa_as_the_secret():
    """token_urlsafe gives a leading "-" one time in 64: Rasa must not exit on it."""
    from rasa.__main__ import create_argument_parser

    from hotline.rasa_server import rasa_argv

    argv = rasa_argv(["run", "--port", "5005"], "-dash-key", {})
    assert create_argument_parser().parse_args(argv[1:]).jwt_secret == "-dash-key"
