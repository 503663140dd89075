"""The trainer role: granted and revoked by admins (CLI and console), every
grant audited, independent of the operator role."""
from __future__ import annotations

from handoff import repository as repo
from handoff.admin import main as admin_main
from tests.handoff.handoff_helpers import AppThread, ConsoleClient, handoff_settings
from tests.workbench.conftest import PASSWORD


class Ran:
    def __init__(self, returncode: int, stdout: str) -> None:
        self.returncode, self.stdout = returncode, stdout


def test_cli_adds_a_trainer_and_grants_and_revokes_the_role(tmp_path, capsys, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HANDOFF_PASSWORD", "long-enough-pass")

    def admin(*args):
        code = admin_main([*args, "--database-url", db_url])  # the CLI's parser, in this process
        return Ran(code, capsys.readouterr().out)

    added = admin("add-trainer", "--login", "petrov", "--name", "Пётр Петров")
    assert added.returncode == 0 and "тренер" in added.stdout
    petrov = repo.operator_by_login("petrov", url=db_url)
    assert (petrov.is_trainer, petrov.is_operator, petrov.is_admin) == (True, False, False)
    both = admin("add-operator", "--login", "ivanova", "--name", "Анна", "--trainer")
    assert both.returncode == 0 and "оператор, тренер" in both.stdout
    admin("add-operator", "--login", "sidorov", "--name", "Сидор")
    assert not repo.operator_by_login("sidorov", url=db_url).is_trainer
    assert admin("grant-trainer", "--login", "sidorov").returncode == 0
    assert repo.operator_by_login("sidorov", url=db_url).is_trainer
    assert admin("revoke-trainer", "--login", "sidorov").returncode == 0
    assert not repo.operator_by_login("sidorov", url=db_url).is_trainer
    assert admin("grant-trainer", "--login", "nobody").returncode == 1
    listed = admin("list-operators").stdout
    assert "petrov\tПётр Петров\t(тренер, без консоли)" in listed
    actions = [(e.action, e.subject) for e in repo.audit_entries(url=db_url)]
    assert ("admin_grant_trainer", "sidorov") in actions and ("admin_revoke_trainer", "sidorov") in actions


def test_the_console_admin_toggles_the_role_and_a_trainer_only_account_stays_out(db_url, make_account):
    from handoff.console.app import create_app

    make_account("boss", trainer=False, operator=True, admin=True)
    make_account("anna", trainer=False, operator=True)
    make_account("petr", trainer=True, operator=False)
    console = AppThread(lambda: create_app(handoff_settings(), db_url, run_worker=False, telegram=False))
    try:
        boss = ConsoleClient(console.url)
        assert boss.login("boss", PASSWORD).status_code == 200
        page = boss.get("/admin/operators")
        assert 'id="grant-trainer-anna"' in page.text and 'id="revoke-trainer-petr"' in page.text
        assert boss.post("/api/admin/operators/anna/grant-trainer", json={}).status_code == 200
        assert repo.operator_by_login("anna", url=db_url).is_trainer
        assert boss.post("/api/admin/operators/anna/revoke-trainer", json={}).status_code == 200
        assert not repo.operator_by_login("anna", url=db_url).is_trainer
        created = boss.post("/api/admin/operators", json={"login": "olga", "display_name": "Ольга",
                                                          "password": PASSWORD, "role": "trainer"})
        assert created.status_code == 200 and created.json()["is_trainer"] and not created.json()["is_operator"]
        entries = [(e.action, e.subject, e.operator_login) for e in repo.audit_entries(url=db_url)]
        assert ("admin_grant_trainer", "anna", "boss") in entries and ("admin_revoke_trainer", "anna", "boss") in entries

        anna = ConsoleClient(console.url)
        assert anna.login("anna", PASSWORD).status_code == 200
        assert anna.post("/api/admin/operators/anna/grant-trainer", json={}).status_code == 403
        refused = ConsoleClient(console.url).login("petr", PASSWORD)
        assert refused.status_code == 403 and "роль тренера" in refused.json()["error"]
    finally:
        console.stop()
