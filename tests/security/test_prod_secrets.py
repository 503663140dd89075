"""The production profile's PostgreSQL and Redis, approached by a local
stranger: no password, a wrong one, a look at `ps` and at the banner.

The services are started exactly as `make run-prod` starts them
(hotline.ops.supervisor.ProdProfile), on free ports in a throw-away directory.
"""
from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg2
import pytest

from hotline.ops.supervisor import ProdConfig, ProdProfile, find_pg_bindir


@pytest.fixture
def profile() -> Iterator[ProdProfile]:
    assert find_pg_bindir() is not None and shutil.which("redis-server"), "make setup installs PostgreSQL and Redis"
    base = Path(tempfile.mkdtemp(prefix="prod-secrets-"))
    profile = ProdProfile(ProdConfig.ephemeral(base))
    try:
        yield profile
    finally:
        profile.stop()
        shutil.rmtree(base, ignore_errors=True)


def _redis(port: int, *commands: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall("".join(f"{c}\r\n" for c in commands).encode())
        reply = b""
        while reply.count(b"\r\n") < len(commands):
            chunk = s.recv(256)
            if not chunk:
                break
            reply += chunk
        return reply


def _cmdlines() -> str:
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    return "\n".join(lines)


def _private(path: Path, mode: int = 0o600) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == mode


def test_postgresql_refuses_connections_without_the_password(profile):
    profile.start_pg()
    port = profile.config.pg_port
    for attempt in ({}, {"password": "postgres"}, {"password": ""}):
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=5,
                             **attempt)
    # The private socket is no back door either.
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=str(profile.pg_dir), port=port, user="postgres", dbname="postgres", connect_timeout=5)
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=5,
                            password=profile.secrets.pg_password)
    with conn.cursor() as cur:
        cur.execute("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres'")
        assert cur.fetchone() == (True,)
    conn.close()


def test_redis_refuses_commands_without_auth(profile):
    profile.start_redis()
    port = profile.config.redis_port
    assert _redis(port, "PING").startswith(b"-NOAUTH")
    assert _redis(port, "GET vk:event:1").startswith(b"-NOAUTH")
    assert _redis(port, "AUTH not-the-password").startswith(b"-WRONGPASS")
    assert _redis(port, f"AUTH {profile.secrets.redis_password}", "PING") == b"+OK\r\n+PONG\r\n"


def test_passwords_are_generated_once_private_and_never_on_a_command_line_or_banner(profile):
    profile.start_pg()
    profile.start_redis()
    pg, redis = profile.secrets.pg_password, profile.secrets.redis_password
    assert len(pg) >= 32 and len(redis) >= 32 and pg != redis
    assert _private(profile.secrets.dir, 0o700)
    for name in ("pg_password", "redis_password"):
        assert _private(profile.secrets.dir / name)
    assert _private(profile.base / "redis" / "redis.conf")
    assert not (profile.pg_dir / ".initdb-pw").exists()
    commands = _cmdlines()
    assert pg not in commands and redis not in commands
    banner = profile.banner()
    assert pg not in banner and redis not in banner
    # A second start of the profile finds the same passwords.
    again = ProdProfile(profile.config)
    assert (again.secrets.pg_password, again.secrets.redis_password) == (pg, redis)


def test_a_cluster_made_with_trust_by_an_older_profile_gets_a_password(profile):
    data = profile.pg_dir / "data"
    profile.pg_dir.mkdir(parents=True)
    run_as = []
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(profile.pg_dir, user.pw_uid, user.pw_gid)
        profile.base.chmod(profile.base.stat().st_mode | 0o011)
        run_as = ["runuser", "-u", "postgres", "--"]
    import subprocess

    subprocess.run(run_as + [str(find_pg_bindir() / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                             "-E", "UTF8", "--no-locale"], check=True, capture_output=True)
    profile.start_pg()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=profile.config.pg_port, user="postgres", dbname="postgres",
                         connect_timeout=5)
    psycopg2.connect(host="127.0.0.1", port=profile.config.pg_port, user="postgres", dbname="hotline_status",
                     connect_timeout=5, password=profile.secrets.pg_password).close()
