"""The «Изменения» page: a trainer sees the diff of the project copy and
commits it to their branch; the copy's checkout stays where it was."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.workbench.test_changes import git


@pytest.fixture
def project_dir(project_dir: Path) -> Path:
    """The workbench's project copy as a git repository on its own branch."""
    git(project_dir, "init", "-q", "-b", "production")
    git(project_dir, "add", "-A")
    git(project_dir, "commit", "-q", "-m", "deployed")
    return project_dir


def test_a_trainer_sees_the_diff_and_commits_it_to_their_branch(signed_in, project_dir, db_url):
    from handoff import repository as repo

    client = signed_in("olga")
    empty = client.get("/changes")
    assert empty.status_code == 200 and 'id="no-changes"' in empty.text
    assert "trainer/olga" in empty.text and "production" in empty.text

    domain = project_dir / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8").replace(
        "Спасибо за звонок. До свидания!", "Спасибо за звонок. Всего доброго!"), encoding="utf-8")
    page = client.get("/changes")
    assert "<code>domain.yml</code> — изменён" in page.text
    assert '<span class="diff-add">+      text: Спасибо за звонок. Всего доброго!</span>' in page.text

    committed = client.post("/changes", data={"message": "Прощание по телефону теплее", "csrf_token": client.csrf})
    assert committed.status_code == 200 and 'id="commit-id"' in committed.text
    sha = git(project_dir, "rev-parse", "refs/heads/trainer/olga").strip()
    assert sha in committed.text
    assert git(project_dir, "log", "-1", "--format=%an|%s", sha).strip() == "Olga|Прощание по телефону теплее"
    assert git(project_dir, "symbolic-ref", "--short", "HEAD").strip() == "production"
    assert git(project_dir, "status", "--porcelain").strip() == "M domain.yml"
    entries = [(e.action, e.subject, e.detail) for e in repo.audit_entries(10, url=db_url)]
    assert ("wb_commit", "trainer/olga", f"{sha} (1 файлов)") in entries

    again = client.post("/changes", data={"message": "ещё раз", "csrf_token": client.csrf})
    assert again.status_code == 200 and "Коммитить нечего" in again.text
    empty_message = client.post("/changes", data={"message": " ", "csrf_token": client.csrf})
    assert empty_message.status_code == 400 and "не может быть пустым" in empty_message.text


def test_a_project_copy_outside_git_is_explained(signed_in, tmp_path, workbench_config):
    # The default project_dir fixture of tests/workbench/conftest.py is not a
    # repository: shadowed here, so take the config's and remove .git.
    subprocess.run(["rm", "-rf", str(workbench_config.project_dir / ".git")], check=True)
    page = signed_in("olga").get("/changes")
    assert page.status_code == 200 and "не является репозиторием git" in page.text
