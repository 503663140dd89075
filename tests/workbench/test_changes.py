"""«Изменения»: the diff against HEAD and the commit to the trainer's branch,
in a throw-away repository whose working tree stays on its branch."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workbench import changes


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.org",
                           *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data" / "stories").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "hotline").mkdir()
    (root / "domain.yml").write_text("version: \"3.1\"\n# comment\nintents:\n  - greet\n", encoding="utf-8")
    (root / "data" / "stories" / "a.yml").write_text("version: \"3.1\"\nstories: []\n", encoding="utf-8")
    (root / "tests" / "test_stories.yml").write_text("stories: []\n", encoding="utf-8")
    (root / "hotline" / "code.py").write_text("X = 1\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def _edit(repo: Path) -> None:
    (repo / "domain.yml").write_text("version: \"3.1\"\n# comment\nintents:\n  - greet\n  - goodbye\n",
                                     encoding="utf-8")
    (repo / "data" / "stories" / "new.yml").write_text("version: \"3.1\"\nstories: []\n", encoding="utf-8")
    (repo / "tests" / "test_stories.yml").unlink()
    (repo / "hotline" / "code.py").write_text("X = 2\n", encoding="utf-8")  # a developer's, not a trainer's


def test_diff_shows_trainer_files_only(repo):
    assert changes.diff(repo).empty
    _edit(repo)
    result = changes.diff(repo)
    assert {(f.status, f.path) for f in result.files} == {
        ("M", "domain.yml"), ("A", "data/stories/new.yml"), ("D", "tests/test_stories.yml")}
    assert "+  - goodbye" in result.patch
    assert "code.py" not in result.patch


def test_commit_lands_on_trainer_branch_and_working_tree_stays(repo):
    _edit(repo)
    status_before = git(repo, "status", "--porcelain")
    head_before = git(repo, "rev-parse", "HEAD")

    result = changes.commit(repo, "Anna.K", "Добавлен интент goodbye\n\n--help; $(rm -rf /)", "Анна Котова")

    assert result.branch == "trainer/anna.k"
    assert git(repo, "rev-parse", "refs/heads/trainer/anna.k").strip() == result.sha
    # The server's checkout did not move: same branch, same HEAD, same index and files.
    assert changes.current_branch(repo) == "main"
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert git(repo, "status", "--porcelain") == status_before
    assert (repo / "hotline" / "code.py").read_text() == "X = 2\n"
    # The commit holds the trainer's files and not the developer's code.
    shown = git(repo, "show", "--name-status", "--format=%an|%s|%b", result.sha)
    assert shown.startswith("Анна Котова|Добавлен интент goodbye|--help; $(rm -rf /)")
    assert "data/stories/new.yml" in shown and "tests/test_stories.yml" in shown
    assert "hotline/code.py" not in shown
    assert git(repo, "show", f"{result.sha}:hotline/code.py") == "X = 1\n"
    assert git(repo, "rev-parse", f"{result.sha}^") == head_before


def test_nothing_to_commit_is_none(repo):
    assert changes.commit(repo, "anna", "пусто") is None
    _edit(repo)
    first = changes.commit(repo, "anna", "первый")
    assert changes.commit(repo, "anna", "ещё раз") is None
    # A further edit grows the branch on top of the first commit.
    (repo / "domain.yml").write_text("version: \"3.1\"\nintents: []\n", encoding="utf-8")
    second = changes.commit(repo, "anna", "второй")
    assert git(repo, "rev-parse", f"{second.sha}^").strip() == first.sha


def test_main_moved_on_gives_a_merge_commit(repo):
    _edit(repo)
    first = changes.commit(repo, "anna", "первый")
    (repo / "hotline" / "code.py").write_text("X = 3\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "developer moves main")
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "domain.yml").write_text("version: \"3.1\"\nintents: []\n", encoding="utf-8")
    second = changes.commit(repo, "anna", "второй")
    parents = git(repo, "rev-list", "--parents", "-n", "1", second.sha).split()[1:]
    assert parents == [first.sha, head]


def test_empty_message_is_refused_politely(repo):
    _edit(repo)
    with pytest.raises(changes.ChangesError, match="сообщение коммита не может быть пустым"):
        changes.commit(repo, "anna", "   ")


@pytest.mark.parametrize("login, branch", [
    ("anna", "trainer/anna"),
    ("../../etc", "trainer/etc"),
    ("a..b.lock", "trainer/a.b"),
    ("x y~z^:?*[", "trainer/x-y-z"),
])
def test_branch_names_are_safe(login, branch):
    assert changes.branch_for(login) == branch
    subprocess.run(["git", "check-ref-format", "refs/heads/" + branch], check=True)


def test_cyrillic_login_gets_a_stable_branch():
    branch = changes.branch_for("анна")
    assert branch == changes.branch_for("анна") and branch.startswith("trainer/user-")
    subprocess.run(["git", "check-ref-format", "refs/heads/" + branch], check=True)
