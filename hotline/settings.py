"""One typed reader of the environment, and the catalogue of the variables
the shared code (hotline/, the channel inbox, voice) reads.

Each variable is declared once with its type, its default and one line of
documentation; modules read it with ``get(NAME)``. A value that does not
parse stops the process with the variable's name instead of being silently
replaced by the default: a deployer who typed RATE_LIMIT_MESSAGES=2O should
learn it at start, not from citizens.

The handoff package (handoff/config.py) and the Telegram/VK connectors keep
their own typed ``Settings.load(env)`` dataclasses, which tests build from a
dict; they list their variables in docs/handoff.md and docs/channels/.

    python -m hotline.settings      prints every variable, its default and its doc
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional


class SettingError(ValueError):
    """An environment variable holds a value of the wrong type."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


@dataclass(frozen=True)
class Setting:
    name: str
    cast: Callable[[str], Any]
    default: Any
    doc: str


CATALOGUE: Dict[str, Setting] = {}


def _declare(name: str, cast: Callable[[str], Any], default: Any, doc: str) -> None:
    CATALOGUE[name] = Setting(name, cast, default, doc)


# Databases
_declare("DATABASE_URL", str, "sqlite:///var/status.db",
         "the project's database (status store, handoff queue, audit); relative SQLite paths from the repo root")
_declare("TRACKER_DATABASE_URL", str, "sqlite:///var/tracker.db",
         "Rasa's tracker store, for retention jobs and the trainers' workbench")
# Channels' guard (hotline.rasa.channels)
_declare("MAX_MESSAGE_CHARS", int, 1000, "longer messages get a polite answer and are not processed")
_declare("RATE_LIMIT_MESSAGES", int, 20, "messages one conversation may send per window")
_declare("RATE_LIMIT_WINDOW_SECONDS", int, 60, "the rate limit's window")
_declare("REDIS_URL", str, "",
         "shared rate-limit counters and widget socket.io emits of all Rasa processes; empty: each process alone")
# Rasa hooks (hotline.rasa.hooks)
_declare("ACTION_TIMEOUT_SECONDS", float, 10.0, "a custom action taking longer gets the polite degraded reply")
_declare("HOTLINE_CACHED_ACTION_VALIDATION", _bool, True,
         "validate action replies with one compiled schema (0: Rasa's own, for comparison)")
_declare("PG_CONNECT_TIMEOUT", int, 5, "seconds before a PostgreSQL connection attempt fails")
_declare("HOTLINE_FAST_TRACKER_STORE", _bool, True,
         "one read and one insert of new events per message (0: Rasa's save, for comparison)")
_declare("HOTLINE_ACTION_DOMAIN_RESPONSES", _bool, False,
         "send the domain's response texts with every custom-action call (Rasa's default; off: ~96 % smaller)")
_declare("HOTLINE_POOLED_HTTP", _bool, True, "one pooled HTTP session to the action server (0: Rasa's own)")
# Health, logs
_declare("HEALTH_CHECK_TIMEOUT", float, 2.0, "seconds each dependency probe of /ops/health may take")
_declare("ACTION_HEALTH_URL", str, "", "the action server's /health, probed by each Rasa instance")
_declare("HOTLINE_SERVICE", str, "hotline", "service name in JSON log lines and health answers")
_declare("HOTLINE_INSTANCE", str, "", "instance name in JSON log lines and health answers (default: the pid)")
_declare("HOTLINE_JSON_LOGS", _bool, False, "JSON log lines without personal data (hotline.ops.jsonlog)")
_declare("LOG_LEVEL", str, "INFO", "log level of the JSON logs")
# Action server
_declare("ACTION_PORT", int, 5055, "the action server's port")
_declare("ACTION_HOST", str, "127.0.0.1", "the action server's address (loopback by default)")
# Retention (hotline.ops.retention)
_declare("RETENTION_DAYS", int, 90, "conversations and handoff tickets older than this are purged")
_declare("APPLICATION_RETENTION_DAYS", int, 365, "finished applications unchanged this long are purged (0 keeps)")
_declare("RETENTION_OPERATOR", str, "", "who runs a retention command, for the audit row (default: the OS user)")
# Channel inbox (connectors/inbox.py)
_declare("INBOX_LEASE_SECONDS", float, 30.0, "how long a process owns an accepted update before another may retry it")
# Trainers' workbench (workbench/, issue 15)
_declare("WORKBENCH_HOST", str, "127.0.0.1", "the trainers' workbench address (loopback by default: an internal tool)")
_declare("WORKBENCH_PORT", int, 5078, "the trainers' workbench port")
_declare("WORKBENCH_PROJECT_DIR", str, "",
         "the project copy whose data/, domain.yml and tests/ the workbench edits (default: this repository)")
# Production supervisor (hotline.ops.supervisor)
_declare("PROD_DIR", str, "", "the production profile's working directory (default var/prod)")
_declare("RASA_INSTANCES", int, 2, "Rasa instances of the production profile")
_declare("PROD_NGINX_PORT", int, 8080, "nginx port of the production profile")
_declare("PROD_RASA_PORT", int, 5105, "first Rasa port (+1 per instance)")
_declare("PROD_ACTION_PORT", int, 5155, "first action server port (+1 per instance)")
_declare("PROD_ACTIONS_LB_PORT", int, 5150, "nginx's port in front of the action servers")
_declare("PROD_PG_PORT", int, 5433, "PostgreSQL port of the production profile")
_declare("PROD_REDIS_PORT", int, 6380, "Redis port of the production profile")
_declare("NGINX_REST_IP_RATE", int, 50, "REST requests per second per client address at nginx")
_declare("NGINX_REST_IP_BURST", int, 100, "burst above that rate")
_declare("HOTLINE_CREDENTIALS", str, "", "the credentials file Rasa opens (default credentials.yml)")


def get(name: str, env: Optional[Mapping[str, str]] = None) -> Any:
    """The typed value of a catalogued variable; unset or empty gives the default."""
    setting = CATALOGUE[name]
    raw = (os.environ if env is None else env).get(name, "")
    if raw.strip() == "":
        return setting.default
    try:
        return setting.cast(raw.strip())
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a valid {setting.cast.__name__.strip('_')}: {setting.doc}") from None


def main() -> int:
    for setting in CATALOGUE.values():
        print(f"{setting.name:34} {str(setting.default)!r:28} {setting.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
