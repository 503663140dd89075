"""Throw-away databases for the tests: a SQLite file, or a fresh database in
one PostgreSQL cluster started per test session (tests/conftest.py)."""
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

from hotline.db.engine import dispose_engine
from hotline.ops.ports import free_port
from hotline.ops.supervisor import find_pg_bindir

BACKENDS = ["sqlite", "postgresql"]


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
    pytest.fail(f"{reason}; run `make test` as root or install the Debian package 'postgresql'", pytrace=False)


def start_cluster() -> Iterator[PgCluster]:
    """The body of the session fixture `pg_cluster`."""
    bindir = find_pg_bindir()
    if bindir is None:
        _unavailable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    run_as: list[str] = []
    # tempfile, not tmp_path: pytest's directories are private to root and the
    # server runs as `postgres`, which initdb insists on when we are root.
    base = Path(tempfile.mkdtemp(prefix="tests-pg-"))
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


def empty_database(request, tmp_path: Path, backend: str) -> Iterator[str]:
    """An empty database (no tables) of `backend`, dropped after the test."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        yield url
        dispose_engine(url)
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"test_{uuid.uuid4().hex[:12]}"
    cluster.psql(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    yield url
    dispose_engine(url)
    cluster.psql(f"DROP DATABASE {name} WITH (FORCE)")
