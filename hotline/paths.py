"""The repository root: relative paths in settings (var/, models/, the SQLite
files) are taken from here, so every process finds the same files whatever
its working directory."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
