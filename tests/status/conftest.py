"""Store fixtures: every store test runs on a fresh SQLite file and on a fresh
database of the session's throw-away PostgreSQL cluster (tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from hotline.db.engine import init_db
from hotline.ops.ports import free_port
from tests.databases import BACKENDS, empty_database

HEADER = ("application_number,full_name,birth_date,service,status,submitted_at,expected_at,"
          "missing_documents,instructions")


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    """An empty database (no tables) of each backend, dropped after the test."""
    yield from empty_database(request, tmp_path, request.param)


@pytest.fixture
def store(store_url) -> str:
    """A migrated, empty store."""
    init_db(store_url)
    return store_url


@pytest.fixture
def unreachable_urls(tmp_path) -> dict[str, str]:
    """Per backend, a URL whose database cannot be opened."""
    return {
        "postgresql": f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing",
        # A directory cannot be opened as a database file, even by root.
        "sqlite": f"sqlite:///{tmp_path}",
    }


class PersonalData:
    """A person whose name and birth date must never show up in output."""

    NAME = "Секретова Тайна Ивановна"
    BIRTH_DATE = "1977-07-07"
    TRACES = ("Секретова", "Тайна", "1977-07-07", "07.07.1977", "1977, 7, 7", "7 июля 1977")

    def assert_absent(self, text: str) -> None:
        for trace in self.TRACES:
            assert trace not in text


@pytest.fixture
def personal_data() -> PersonalData:
    return PersonalData()


def csv_row(number: str = "1234567890", full_name: str = "Иванов Иван Иванович",
            birth_date: str = "1985-03-12", service: str = "passport_foreign", status: str = "in_progress",
            submitted_at: str = "2026-11-02", expected_at: str = "2026-12-02", missing_documents: str = "",
            instructions: str = "") -> str:
    """One CSV data line; fields containing commas, quotes or newlines get quoted."""
    fields = [number, full_name, birth_date, service, status, submitted_at, expected_at,
              missing_documents, instructions]
    quote = lambda v: '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v  # noqa: E731
    return ",".join(quote(f) for f in fields)


@pytest.fixture
def row():
    return csv_row


@pytest.fixture
def write_csv(tmp_path):
    """Write data rows (strings) under the standard header; returns the path."""
    def _write(*rows: str, name: str = "applications.csv", header: str = HEADER, bom: bool = False) -> Path:
        path = tmp_path / name
        text = "\n".join((header, *rows)) + "\n"
        path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
        return path

    return _write
