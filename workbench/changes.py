"""«Изменения»: what the workbench changed in the project's files, as a diff
against HEAD, committed to a branch named after the trainer.

The workbench edits the working tree of a repository whose server is
running, so nothing here may switch its branch or touch its index: the
commit is built in a temporary index (GIT_INDEX_FILE) that starts as HEAD's
tree and receives only the trainer-editable paths, then `git write-tree`,
`git commit-tree` and `git update-ref` (with the expected old value, so two
commits racing for one branch cannot lose one of them).

git runs as a subprocess with fixed arguments and no shell; the trainer's
message goes through stdin, never through the command line.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# What trainers change through the workbench; code and configuration are not
# theirs to commit from here.
PATHS: Tuple[str, ...] = ("data", "domain.yml", "tests")
BRANCH_PREFIX = "trainer/"
MAX_MESSAGE = 2000
# A diff shown in the browser, not a download: beyond this the page says so.
MAX_DIFF_BYTES = 400_000
ZERO = "0" * 40
_TIMEOUT = 60


class ChangesError(Exception):
    """A refusal or failure the trainer reads: the message is Russian."""


@dataclass
class FileChange:
    status: str  # A, M, D
    path: str

    @property
    def label(self) -> str:
        return {"A": "добавлен", "M": "изменён", "D": "удалён"}.get(self.status[:1], "изменён")


@dataclass
class Diff:
    files: List[FileChange] = field(default_factory=list)
    patch: str = ""
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not self.files


@dataclass
class CommitResult:
    branch: str
    sha: str
    files: List[FileChange]

    @property
    def short(self) -> str:
        return self.sha[:10]


def branch_for(login: str) -> str:
    """`trainer/<login>` with the login reduced to what a ref name allows;
    a login with nothing usable (all Cyrillic, say) gets a stable hash."""
    name = re.sub(r"[^a-z0-9._-]+", "-", (login or "").strip().lower())
    name = re.sub(r"\.{2,}", ".", name).strip(".-_")
    if name.endswith(".lock"):
        name = name[: -len(".lock")]
    if not name:
        name = "user-" + hashlib.sha256((login or "").encode("utf-8")).hexdigest()[:10]
    return BRANCH_PREFIX + name[:60]


def _env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1"})
    env.update(extra or {})
    return env


def _git(repo: Path, args: Sequence[str], env: Optional[Dict[str, str]] = None,
         stdin: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                                text=True, encoding="utf-8", errors="replace", env=_env(env),
                                timeout=_TIMEOUT, shell=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChangesError("Не удалось выполнить git: попробуйте ещё раз или обратитесь к администратору.") from exc
    if check and result.returncode != 0:
        raise ChangesError("git завершился с ошибкой: " + (result.stderr.strip().splitlines() or ["?"])[-1])
    return result


def _rev(repo: Path, ref: str) -> Optional[str]:
    result = _git(repo, ["rev-parse", "--verify", "--quiet", ref + "^{commit}"], check=False)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _present(repo: Path) -> List[str]:
    """The trainer paths git can add: in the working tree, or in HEAD (a
    deleted folder); a pathspec that matches nothing would be an error."""
    in_head = set(_git(repo, ["ls-tree", "--name-only", "HEAD", "--", *PATHS]).stdout.split())
    return [p for p in PATHS if (repo / p).exists() or p in in_head]


class _TemporaryIndex:
    """HEAD's tree plus the working tree's trainer paths, in an index file of
    its own: the repository's index and branch stay as they are."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._dir = tempfile.TemporaryDirectory(prefix="workbench-index-")
        self.env = {"GIT_INDEX_FILE": str(Path(self._dir.name) / "index")}

    def __enter__(self) -> "_TemporaryIndex":
        top = _git(self.repo, ["rev-parse", "--show-toplevel"], check=False)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != self.repo.resolve():
            self._dir.cleanup()
            raise ChangesError("Папка проекта не является репозиторием git (или лежит внутри другого): "
                               "изменения нельзя показать и закоммитить. Обратитесь к администратору.")
        if _rev(self.repo, "HEAD") is None:
            self._dir.cleanup()
            raise ChangesError("В репозитории проекта ещё нет ни одного коммита.")
        _git(self.repo, ["read-tree", "HEAD"], env=self.env)
        paths = _present(self.repo)
        if paths:
            _git(self.repo, ["add", "--all", "--", *paths], env=self.env)
        return self

    def __exit__(self, *exc) -> None:
        self._dir.cleanup()

    def git(self, args: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
        return _git(self.repo, args, env={**self.env, **kwargs.pop("env", {})}, **kwargs)

    def files(self) -> List[FileChange]:
        out = self.git(["diff", "--cached", "--name-status", "--no-renames", "-z", "HEAD", "--"]).stdout
        parts = [p for p in out.split("\0") if p]
        return [FileChange(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def diff(repo: Path) -> Diff:
    """The trainer paths' changes against HEAD, new files included."""
    repo = Path(repo)
    with _TemporaryIndex(repo) as index:
        files = index.files()
        if not files:
            return Diff()
        patch = index.git(["diff", "--cached", "--no-renames", "--no-color", "--no-ext-diff", "HEAD", "--"]).stdout
    truncated = len(patch.encode("utf-8")) > MAX_DIFF_BYTES
    if truncated:
        patch = patch.encode("utf-8")[:MAX_DIFF_BYTES].decode("utf-8", "ignore")
    return Diff(files=files, patch=patch, truncated=truncated)


def _clean_message(message: str) -> str:
    message = (message or "").replace("\r\n", "\n").replace("\0", "").strip()
    if not message:
        raise ChangesError("Опишите изменения: сообщение коммита не может быть пустым.")
    if len(message) > MAX_MESSAGE:
        raise ChangesError(f"Сообщение слишком длинное: не больше {MAX_MESSAGE} символов.")
    return message + "\n"


def _identity(login: str, display_name: Optional[str]) -> Dict[str, str]:
    # git refuses names made only of "<>\n" and would cut them; keep them out.
    name = re.sub(r"[<>\n\r\0]", "", (display_name or "").strip()) or re.sub(r"[<>\s]", "", login) or "trainer"
    local = re.sub(r"[^A-Za-z0-9._-]", "-", login or "") or "trainer"
    email = f"{local}@workbench.invalid"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def commit(repo: Path, login: str, message: str, display_name: Optional[str] = None) -> Optional[CommitResult]:
    """Commit the trainer paths' changes to `trainer/<login>`; None when there
    is nothing new to commit (the page says so politely).

    The branch grows commit by commit. When main has moved past the branch's
    base, the new commit has both as parents, so the branch shows the
    trainer's work on top of the code it was tested with."""
    repo = Path(repo)
    text = _clean_message(message)
    branch = branch_for(login)
    ref = "refs/heads/" + branch
    _git(repo, ["check-ref-format", ref])
    with _TemporaryIndex(repo) as index:
        files = index.files()
        tree = index.git(["write-tree"]).stdout.strip()
    head = _rev(repo, "HEAD")
    tip = _rev(repo, ref)
    if tip is None:
        if not files:
            return None
        parents = [head]
    else:
        if _git(repo, ["rev-parse", tip + "^{tree}"]).stdout.strip() == tree:
            return None
        ancestor = _git(repo, ["merge-base", "--is-ancestor", head, tip], check=False).returncode == 0
        parents = [tip] if ancestor else [tip, head]
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    sha = _git(repo, args, env=_identity(login, display_name), stdin=text).stdout.strip()
    moved = _git(repo, ["update-ref", "-m", "workbench: " + text.splitlines()[0][:80], ref, sha, tip or ZERO],
                 check=False)
    if moved.returncode != 0:
        raise ChangesError("Ветка изменилась, пока шёл коммит (ещё одна вкладка?). Обновите страницу и повторите.")
    return CommitResult(branch=branch, sha=sha, files=files)


def current_branch(repo: Path) -> str:
    """The working tree's branch, for the page (and the tests: it must not move)."""
    return _git(Path(repo), ["symbolic-ref", "--quiet", "--short", "HEAD"], check=False).stdout.strip() or "HEAD"
