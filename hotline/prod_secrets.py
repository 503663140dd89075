"""Passwords of the production profile's PostgreSQL and Redis.

Both are generated on the first start into ``<PROD_DIR>/secrets/`` (a
directory and files only the owner can read) unless the deployer sets
``PG_PASSWORD`` / ``REDIS_PASSWORD``. They reach the services and clients
through files and the environment only, never a command line (``ps`` shows
argv to every local user) or the start-up banner:

* PostgreSQL: initdb reads the superuser's password from a file that exists
  for the duration of the call (``--pwfile``), and every connection, over
  TCP or the socket, must prove it with SCRAM-SHA-256. A cluster made by an
  older profile with ``--auth=trust`` gets the password and the new
  pg_hba.conf on its next start (``require_password``).
* Redis reads ``requirepass`` from a configuration file (redis-server has no
  other way than argv), written with mode 600 before each start.

Rotation: stop the profile, delete the file, start again (docs/security.md).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Mapping, Optional

from hotline import settings
from hotline.secret_files import file_secret

PG_USER = "postgres"
SCRAM_HBA = """# Written by hotline.prod_secrets: every connection proves the password (SCRAM-SHA-256).
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""


class ProfileSecrets:
    def __init__(self, base: Path, env: Optional[Mapping[str, str]] = None) -> None:
        self.dir = base / "secrets"
        self.env = env  # None: the process environment (hotline.settings)

    def _get(self, env_name: str, file_name: str) -> str:
        given = settings.get(env_name, self.env)
        if given:
            return given
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        return file_secret(self.dir / file_name)

    @property
    def pg_password(self) -> str:
        return self._get("PG_PASSWORD", "pg_password")

    @property
    def redis_password(self) -> str:
        return self._get("REDIS_PASSWORD", "redis_password")


def write_private(path: Path, text: str, owner: Optional[tuple] = None) -> None:
    """Create `path` readable by its owner only (chown'd to `owner` = (uid, gid))."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    if owner is not None:
        os.chown(path, *owner)


def initdb_with_password(initdb: Callable[..., object], data: Path, scratch: Path, password: str,
                         owner: Optional[tuple]) -> None:
    """Run initdb (`initdb(*extra_args)`) so that the cluster requires SCRAM
    passwords from the first moment; the password file lives only as long as the call."""
    pwfile = scratch / ".initdb-pw"
    write_private(pwfile, password + "\n", owner)
    try:
        initdb("--auth=scram-sha-256", f"--pwfile={pwfile}")
    finally:
        pwfile.unlink(missing_ok=True)


def trusts_anyone(data: Path) -> bool:
    """True for a cluster made with --auth=trust (or any trust line)."""
    try:
        hba = (data / "pg_hba.conf").read_text()
    except FileNotFoundError:
        return False
    return any(re.search(r"\btrust\s*$", line) for line in hba.splitlines() if not line.lstrip().startswith("#"))


def require_password(connect: Callable[[], object], data: Path, password: str, owner: Optional[tuple],
                     reload: Callable[[], object]) -> None:
    """Turn an old trust cluster into a password one: set the superuser's
    password (sent as a SCRAM verifier, so no log of the server sees it),
    rewrite pg_hba.conf, reload."""
    from psycopg2.extensions import encrypt_password

    conn = connect()
    conn.autocommit = True
    try:
        verifier = encrypt_password(password, PG_USER, conn, "scram-sha-256")
        with conn.cursor() as cur:
            cur.execute("SET password_encryption = 'scram-sha-256'")
            cur.execute(f'ALTER ROLE "{PG_USER}" PASSWORD %s', (verifier,))
    finally:
        conn.close()
    write_private(data / "pg_hba.conf", SCRAM_HBA, owner)
    reload()


def redis_config(path: Path, password: str) -> Path:
    """The configuration file redis-server is started with (the rest stays on argv)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A quoted value: the password is URL-safe base64, no quote or backslash to escape.
    write_private(path, f'requirepass "{password}"\n')
    return path
