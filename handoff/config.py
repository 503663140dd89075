"""Settings of the handoff, read from the environment (hotline.settings' catalogue).

Every process (action server, Rasa server, console, Telegram workspace) reads
the same variables, so one environment configures all of them; docs/handoff.md
lists them. The database is the status store's (DATABASE_URL).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from hotline import settings
from hotline.paths import ROOT
from hotline.secret_files import secret

SECRET_FILE = ROOT / "var" / "handoff.secret"
SECRET_HEADER = "X-Handoff-Secret"


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
        """From the environment (or `env`) through hotline.settings' catalogue:
        a value that does not parse stops the process naming the variable."""
        def get(name: str) -> Any:
            return settings.get(name, env)

        return cls(
            hours=get("HANDOFF_HOURS").strip(),
            callbacks=get("HANDOFF_CALLBACKS"),
            timezone=get("HANDOFF_TZ"),
            holidays=get("HANDOFF_HOLIDAYS"),
            chats_per_operator=max(1, get("HANDOFF_CHATS_PER_OPERATOR")),
            default_handling_minutes=max(0.5, get("HANDOFF_DEFAULT_HANDLING_MIN")),
            wait_notice_minutes=max(0.5, get("HANDOFF_WAIT_NOTICE_MIN")),
            console_host=get("HANDOFF_CONSOLE_HOST"),
            console_port=get("HANDOFF_CONSOLE_PORT"),
            rasa_url=(get("HANDOFF_RASA_URL") or f"http://localhost:{get('RASA_PORT')}").rstrip("/"),
            rasa_token=get("RASA_API_TOKEN"),
            session_idle_minutes=max(0.05, get("HANDOFF_SESSION_IDLE_MIN")),
            session_max_hours=max(0.01, get("HANDOFF_SESSION_MAX_HOURS")),
            secure_cookies=get("HANDOFF_SECURE_COOKIES"),
            login_max_failures=max(1, get("HANDOFF_LOGIN_MAX_FAILURES")),
            login_address_max_failures=max(1, get("HANDOFF_LOGIN_ADDRESS_MAX_FAILURES")),
            login_lock_seconds=max(1.0, get("HANDOFF_LOGIN_LOCK_SEC")),
            login_lock_max_minutes=max(0.02, get("HANDOFF_LOGIN_LOCK_MAX_MIN")),
            login_forget_hours=max(0.01, get("HANDOFF_LOGIN_FORGET_HOURS")),
            trusted_proxies=get("HANDOFF_TRUSTED_PROXIES"),
            worker_interval=max(0.05, get("HANDOFF_WORKER_INTERVAL")),
            tg_token=get("HANDOFF_TG_TOKEN"),
            tg_chat_id=get("HANDOFF_TG_CHAT_ID"),
            tg_api_url=get("HANDOFF_TG_API_URL").rstrip("/"),
        )


def internal_secret(env: Optional[Mapping[str, str]] = None, path: Path = SECRET_FILE) -> str:
    """The secret the console shows the Rasa server's handoff channel.

    HANDOFF_SECRET if set; otherwise a random one kept in var/handoff.secret,
    created by whichever process needs it first (both find the same file)."""
    return secret("HANDOFF_SECRET", path.name, env, path.parent)
