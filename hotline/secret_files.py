"""Server secrets: from the environment, else generated once into var/ (mode 600).

Every secret the processes share (Rasa's API key, the socket.io session
signing key, the voice channel's token, the handoff's internal secret) comes
from here, so they all follow one rule: an environment variable wins (a
deployer's secret manager), otherwise the first process that needs it creates
``var/<name>`` readable by its owner only and every other process reads the
same file. Secrets never go on a command line (``ps`` shows it), into a URL
(proxies log those) or into a banner. Rotating one = delete the file (or
change the variable) and restart (docs/security.md).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Mapping, Optional

from hotline.paths import ROOT

VAR = ROOT / "var"


def secret(env_name: str, file_name: str, env: Optional[Mapping[str, str]] = None,
           directory: Optional[Path] = None) -> str:
    """``$env_name`` (a catalogued variable) if set, else the content of
    ``var/<file_name>``, created on first use."""
    from hotline import settings

    given = settings.get(env_name, env)
    if given:
        return given
    return file_secret((directory or VAR) / file_name)


def file_secret(path: Path) -> str:
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    # Written aside and linked into place: a reader never sees a half-written
    # file, and of two processes starting at once the first link wins.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    try:
        os.link(temp, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        temp.unlink(missing_ok=True)
    return value


def same(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; an empty value never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


def sign(key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one ``purpose`` (hex): a token that only a key holder can make."""
    return hmac.new(key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def bearer(headers: Mapping[str, str]) -> str:
    value = str(headers.get("Authorization") or headers.get("authorization") or "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
