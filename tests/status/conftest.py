"""Store fixtures: every store test runs on a fresh SQLite file and on a fresh
database of a throw-away PostgreSQL cluster started for the session."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from hotline.db.engine import dispose_engine, init_db
from hotline.ops.ports import free_port
from hotline.ops.supervisor import find_pg_bindir

ROOT = Path(__file__).resolve().parents[2]
HEADER = ("application_number,full_name,birth_date,service,status,submitted_at,expected_at,"
          "missing_documents,instructions")


@dataclass
class PgCluster:
    bindir: Path
    base: Path
    port: int
    run_as: list[str]  # prefix that runs a command as the cluster's OS user

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql: str) -> None:
        subprocess.run(
            self.run_as + [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                           "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True, capture_output=True, text=True,
        )

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(self.run_as + [str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), *args],
                       check=True, capture_output=True, text=True, timeout=120)


def _unavailable(reason: str) -> None:
    # Never a skip: `make test` installs PostgreSQL (scripts/system_packages.sh),
    # and a missing server must not quietly turn half the suite into skips.
    pytest.fail(f"{reason}; install the Debian package 'postgresql'", pytrace=False)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = find_pg_bindir()
    if bindir is None:
        _unavailable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    run_as: list[str] = []
    # tempfile, not tmp_path: pytest's directories are private to root and the
    # server runs as `postgres`, which initdb insists on when we are root.
    base = Path(tempfile.mkdtemp(prefix="store-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' OS user to run PostgreSQL")
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = PgCluster(bindir, base, free_port(), run_as)
    started = False
    try:
        subprocess.run(
            run_as + [str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--no-locale"],
            check=True, capture_output=True, text=True, timeout=120,
        )
        # fsync off: the cluster is thrown away, and tests should not wait on disks.
        options = (f"-p {cluster.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        cluster.pg_ctl("-o", options, "-l", str(base / "server.log"), "-w", "start")
        started = True
        yield cluster
    except subprocess.CalledProcessError as exc:
        if started:
            raise
        pytest.fail(f"could not start PostgreSQL: {exc.cmd}: {exc.stderr}", pytrace=False)
    finally:
        try:
            if started:
                cluster.pg_ctl("-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """An empty database (no tables) of each backend, dropped after the test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'status.db'}"
        yield url
        dispose_engine(url)
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"store_{uuid.uuid4().hex[:12]}"
    cluster.psql(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    yield url
    dispose_engine(url)
    cluster.psql(f"DROP DATABASE {name} WITH (FORCE)")


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
