"""Demo applications for `make run`: loaded only into an empty store, so a
real deployment's data is never mixed with invented people."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from hotline.db.engine import ROOT
from hotline.status.importer import ImportReport, import_csv
from hotline.status.repository import count_applications

DEMO_CSV = ROOT / "data" / "demo" / "applications.csv"


def load_demo(url: Optional[str] = None, path: Path = DEMO_CSV) -> Optional[ImportReport]:
    """Import the demo CSV if the store has no applications; None if it had some."""
    if count_applications(url=url) > 0:
        return None
    return import_csv(path, url, source="demo")
