"""What the workbench's training jobs share, in the workbench process and
in the runner's: where a job keeps its files (Workspace), their JSON and
times, and the masking of every log line."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from hotline.paths import ROOT
from hotline.privacy import mask_text

STEPS = (
    ("validate", "Проверка данных"),
    ("train", "Обучение модели"),
    ("nlu", "Проверка понимания на отложенных фразах"),
    ("stories", "Проверка тестовых диалогов"),
)
LOG_TAIL = 200
CANCEL = "cancel.json"
MAX_LINE = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Rasa's own log lines start with the date and time; the date would be masked
# like a date of birth («2026-***:07:43»), so only the time is kept.
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T](\d{2}:\d{2}:\d{2})(?:[.,]\d+)?")
# Contacts are masked too: a phone number or an e-mail address in a log line
# is personal whatever the line is about.
_CONTACT = re.compile(r"(?<![\w+])(?:\+7|8)[\s(‐‑–—-]*\d{3}[\s)‐‑–—-]*\d{3}[\s‐‑–—-]*\d{2}[\s‐‑–—-]*\d{2}(?!\d)"
                      r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_line(line: str) -> str:
    """A line of a step's output as it may be stored and shown."""
    line = _STAMP.sub(r"\1", _ANSI.sub("", line).rstrip("\r\n"))
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + " …"
    return _CONTACT.sub("***", mask_text(line))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def clock(iso: Optional[str]) -> str:
    """«14:05» in the server's local time."""
    if not iso:
        return "—"
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%H:%M")


def when(iso: Optional[str]) -> str:
    """«30.11.2026 14:05» in the server's local time."""
    if not iso:
        return "—"
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%d.%m.%Y %H:%M")


def write_json(path: Path, data: Any) -> None:
    """Written aside and renamed: a reader never sees half a file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, path)


def read_json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Workspace:
    """Where a job reads the project and keeps its state.

    ``project``: the repository copy with data/, domain.yml, config.yml,
    tests/ and scripts/ (the workbench's project_dir); ``state``: the
    workbench's own files (var/workbench); ``rasa_url``: the running Rasa
    server whose model the report compares against (None: no comparison)."""

    project: Path = ROOT
    state: Path = ROOT / "var" / "workbench"
    python: str = sys.executable
    rasa_url: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)

    @property
    def jobs(self) -> Path:
        return self.state / "jobs"

    @property
    def models(self) -> Path:
        return self.state / "models"

    @property
    def evaluations(self) -> Path:
        return self.state / "evaluations"

    @property
    def lock(self) -> Path:
        return self.state / "training.lock"

    def job_dir(self, job_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-z]{6}-[0-9a-f]{6}", job_id or ""):
            raise KeyError(job_id)
        return self.jobs / job_id


def copy_file(src: Path, dst: Path) -> None:
    """Copied aside and renamed: Rasa or a restart never loads half an archive."""
    temp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copy2(src, temp)
    os.replace(temp, dst)
