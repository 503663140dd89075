"""Safe edits of the project's files, shared by every writer of the workbench
(NLU examples, stories, responses, tests).

A page reads a file together with its version (the SHA-256 of its bytes) and
sends that version back with the change. `write` replaces the file only if
it still has that version — otherwise another trainer (or a git pull) changed
it meanwhile and `EditConflict` says so in Russian, so no edit is silently
lost. The write is atomic (a temporary file in the same directory, then
os.replace, the old file's mode kept): Rasa, git or a reader never see half a
file. One lock per path within the process makes the check-and-replace of
two requests never interleave.

    text, version = read(path)
    write(path, new_text, version)          # EditConflict if it changed
    with editing(path) as (text, version):  # read-modify-write under the lock
        ...
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple, Union

PathLike = Union[str, os.PathLike]
# The version of a file that does not exist yet: writing with it creates the file.
MISSING = "missing"

_locks: Dict[Path, threading.RLock] = {}
_locks_guard = threading.Lock()


class EditConflict(Exception):
    """The file is no longer the version the edit was based on."""

    def __init__(self, path: PathLike, expected: str, found: str, shown_as: Optional[str] = None) -> None:
        self.path = Path(path)
        self.expected = expected
        self.found = found
        name = shown_as or self.path.name
        self.message = (f"Файл {name} изменён другим тренером, пока вы его редактировали; обновите страницу, "
                        f"чтобы увидеть его новую версию, и внесите правку ещё раз.")
        super().__init__(self.message)


class OutsideProject(ValueError):
    """A path a request named leads outside the project copy."""


def inside(root: PathLike, relative: str) -> Path:
    """`relative` (as a page sent it, e.g. "data/nlu/faq.yml") resolved under `root`;
    OutsideProject for absolute paths, "..", or symlinks leading elsewhere."""
    base = Path(root).resolve()
    if not relative or Path(relative).is_absolute():
        raise OutsideProject(relative)
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise OutsideProject(relative)
    return target


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lock_for(path: PathLike) -> threading.RLock:
    """The process-wide lock of one file (re-entrant: `editing` then `write`)."""
    key = Path(path).resolve()
    with _locks_guard:
        return _locks.setdefault(key, threading.RLock())


def read(path: PathLike) -> Tuple[str, str]:
    """(text, version); a missing file reads as ("", MISSING)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return "", MISSING
    return data.decode("utf-8"), version_of(data)


def current_version(path: PathLike) -> str:
    return read(path)[1]


def write(path: PathLike, text: str, expected_version: str, shown_as: Optional[str] = None) -> str:
    """Replace the file with `text` if it is still `expected_version`; the new version.

    `shown_as` names the file in the conflict message (e.g. "data/nlu/faq.yml")."""
    path = Path(path)
    data = text.encode("utf-8")
    with lock_for(path):
        found = current_version(path)
        if found != expected_version:
            raise EditConflict(path, expected_version, found, shown_as)
        _replace(path, data)
    return version_of(data)


@contextmanager
def editing(path: PathLike) -> Iterator[Tuple[str, str]]:
    """Hold the file's lock while the caller reads, changes and writes it back
    (with the version given here): a read-modify-write nobody interleaves."""
    with lock_for(path):
        yield read(path)


def _replace(path: Path, data: bytes) -> None:
    try:
        mode: Optional[int] = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        else:
            # mkstemp makes 0600; a new project file gets the usual mode under the umask.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
