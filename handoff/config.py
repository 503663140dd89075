"""Settings of the handoff, read from the environment.

Every process (action server, Rasa server, console, Telegram workspace) reads
the same variables, so one environment configures all of them; docs/handoff.md
lists them. The database is the status store's (DATABASE_URL).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from hotline.paths import ROOT
from hotline.secret_files import secret

SECRET_FILE = ROOT / "var" / "handoff.secret"
SECRET_HEADER = "X-Handoff-Secret"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(str(env.get(name, "")).strip() or default)
    except ValueError:
        return default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(str(env.get(name, "")).strip() or default)
    except ValueError:
        return default


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = str(env.get(name, "")).strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on", "да")


@dataclass(frozen=True)
class Settings:
    # Operators' hours, a deployment setting: «пн-пт 09:00-18:00; сб 10:00-14:00», or «24/7».
    # The article gives no times (operators work «в стандартные рабочие часы»),
    # so by default none are told and every request joins the live queue.
    hours: str = ""
    timezone: str = "Europe/Moscow"
    holidays: str = ""
    # Wait estimation.
    chats_per_operator: int = 2
    default_handling_minutes: float = 6.0
    # A citizen hears again when the estimate grew by this many minutes (and by half).
    wait_notice_minutes: float = 3.0
    # Outside configured hours, offer a call back to a phone number. The article
    # promises no call-backs, so only a deployment that runs them turns this on.
    callbacks: bool = False
    # Console.
    console_host: str = "127.0.0.1"
    console_port: int = 5077
    rasa_url: str = "http://localhost:5005"
    rasa_token: str = ""
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0
    # Secure cookies unless a deployer serves the console over plain HTTP on
    # localhost and says so (HANDOFF_SECURE_COOKIES=0; `make run` does).
    secure_cookies: bool = True
    # Sign-in throttling (handoff.throttle): free failures per (login, address)
    # and per address, then locks from login_lock_seconds doubling up to
    # login_lock_max_minutes; a key quiet for login_forget_hours starts afresh.
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_lock_seconds: float = 60.0
    login_lock_max_minutes: float = 60.0
    login_forget_hours: float = 24.0
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks).
    trusted_proxies: str = ""
    worker_interval: float = 0.3
    # Telegram operators' workspace (python-telegram-bot).
    tg_token: str = ""
    tg_chat_id: int = 0
    tg_api_url: str = "https://api.telegram.org"

    @classmethod
    def load(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        rasa_port = str(env.get("RASA_PORT", "") or "5005").strip()
        return cls(
            hours=str(env.get("HANDOFF_HOURS", "") or cls.hours).strip(),
            callbacks=_bool(env, "HANDOFF_CALLBACKS", cls.callbacks),
            timezone=str(env.get("HANDOFF_TZ", "") or cls.timezone).strip(),
            holidays=str(env.get("HANDOFF_HOLIDAYS", "") or "").strip(),
            chats_per_operator=max(1, _int(env, "HANDOFF_CHATS_PER_OPERATOR", cls.chats_per_operator)),
            default_handling_minutes=max(0.5, _float(env, "HANDOFF_DEFAULT_HANDLING_MIN",
                                                     cls.default_handling_minutes)),
            wait_notice_minutes=max(0.5, _float(env, "HANDOFF_WAIT_NOTICE_MIN", cls.wait_notice_minutes)),
            console_host=str(env.get("HANDOFF_CONSOLE_HOST", "") or cls.console_host).strip(),
            console_port=_int(env, "HANDOFF_CONSOLE_PORT", cls.console_port),
            rasa_url=str(env.get("HANDOFF_RASA_URL", "") or f"http://localhost:{rasa_port}").strip().rstrip("/"),
            rasa_token=str(env.get("RASA_API_TOKEN", "") or "").strip(),
            session_idle_minutes=max(0.05, _float(env, "HANDOFF_SESSION_IDLE_MIN", cls.session_idle_minutes)),
            session_max_hours=max(0.01, _float(env, "HANDOFF_SESSION_MAX_HOURS", cls.session_max_hours)),
            secure_cookies=_bool(env, "HANDOFF_SECURE_COOKIES", cls.secure_cookies),
            login_max_failures=max(1, _int(env, "HANDOFF_LOGIN_MAX_FAILURES", cls.login_max_failures)),
            login_address_max_failures=max(1, _int(env, "HANDOFF_LOGIN_ADDRESS_MAX_FAILURES",
                                                   cls.login_address_max_failures)),
            login_lock_seconds=max(1.0, _float(env, "HANDOFF_LOGIN_LOCK_SEC", cls.login_lock_seconds)),
            login_lock_max_minutes=max(0.02, _float(env, "HANDOFF_LOGIN_LOCK_MAX_MIN", cls.login_lock_max_minutes)),
            login_forget_hours=max(0.01, _float(env, "HANDOFF_LOGIN_FORGET_HOURS", cls.login_forget_hours)),
            trusted_proxies=str(env.get("HANDOFF_TRUSTED_PROXIES", "") or "").strip(),
            worker_interval=max(0.05, _float(env, "HANDOFF_WORKER_INTERVAL", cls.worker_interval)),
            tg_token=str(env.get("HANDOFF_TG_TOKEN", "") or "").strip(),
            tg_chat_id=_int(env, "HANDOFF_TG_CHAT_ID", 0),
            tg_api_url=str(env.get("HANDOFF_TG_API_URL", "") or cls.tg_api_url).strip().rstrip("/"),
        )


def internal_secret(env: Optional[Mapping[str, str]] = None, path: Path = SECRET_FILE) -> str:
    """The secret the console shows the Rasa server's handoff channel.

    HANDOFF_SECRET if set; otherwise a random one kept in var/handoff.secret,
    created by whichever process needs it first (both find the same file)."""
    return secret("HANDOFF_SECRET", path.name, env, path.parent)
