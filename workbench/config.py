"""The workbench's own settings, read once from the typed catalogue
(hotline.settings: WORKBENCH_*, TRACKER_DATABASE_URL, DATABASE_URL); tests
build a `WorkbenchConfig` directly, e.g. with a temporary project copy."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from hotline import settings
from hotline.db.engine import resolve_sqlite_path
from hotline.paths import ROOT


@dataclass(frozen=True)
class WorkbenchConfig:
    host: str = "127.0.0.1"
    port: int = 5078
    # The repository copy the workbench reads and edits (data/, domain.yml, tests/).
    project_dir: Path = ROOT
    # Rasa's tracker store (read-only for the workbench): the conversations to review.
    tracker_url: str = field(default_factory=lambda: resolve_sqlite_path("sqlite:///var/tracker.db"))
    # Accounts, sessions, audit (the console's database); None: DATABASE_URL.
    database_url: Optional[str] = None

    @classmethod
    def load(cls, env: Optional[Mapping[str, str]] = None) -> "WorkbenchConfig":
        project = settings.get("WORKBENCH_PROJECT_DIR", env)
        path = Path(project).expanduser() if project else ROOT
        return cls(host=settings.get("WORKBENCH_HOST", env), port=settings.get("WORKBENCH_PORT", env),
                   project_dir=(path if path.is_absolute() else ROOT / path).resolve(),
                   tracker_url=resolve_sqlite_path(settings.get("TRACKER_DATABASE_URL", env)))
