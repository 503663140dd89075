"""Structured JSON log lines without personal data.

One JSON object per line: ``ts`` (ISO, UTC), ``level``, ``logger``,
``service`` and ``instance`` (from HOTLINE_SERVICE / HOTLINE_INSTANCE),
``msg`` and, for errors, ``exc`` (type and masked message; the traceback's
frames but not the local values). Message text and exception text pass
through hotline.privacy.mask_text, so dates of birth and SNILS numbers that
slip into a message are written as «***»; citizens' free text is never
logged by the project's code in the first place.

Used by deploy/logging.prod.yml (``rasa run --logging-config-file``) and by
hotline.action_server; ``configure()`` sets it up programmatically.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import traceback
from typing import Any, Dict

from hotline.privacy import mask_text
from hotline import settings

# Logger names whose INFO lines quote request bodies or user text.
_QUIET = {
    "sanic.access": logging.WARNING, "rasa.core.processor": logging.WARNING,
    # Chatty at INFO about things an operator does not need.
    "rasa.core.agent": logging.WARNING, "rasa.engine": logging.WARNING, "rasa.nlu": logging.WARNING,
    "rasa.core.policies": logging.WARNING,
    "rasa.core.actions.action": logging.WARNING, "absl": logging.WARNING, "tensorflow": logging.ERROR,
}


class JsonFormatter(logging.Formatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.service = settings.get("HOTLINE_SERVICE")
        self.instance = settings.get("HOTLINE_INSTANCE") or str(os.getpid())

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the line
            message = str(record.msg)
        entry: Dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self.service,
            "instance": self.instance,
        }
        # Rasa's structlog lines arrive as JSON already: keep them structured.
        parsed = None
        if message.startswith("{"):
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
        if isinstance(parsed, dict):
            entry["msg"] = mask_text(str(parsed.pop("event", "")))
            entry["fields"] = json.loads(mask_text(json.dumps(parsed, ensure_ascii=False, default=str)))
        else:
            entry["msg"] = mask_text(message)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            entry["exc"] = {
                "type": exc_type.__name__,
                "msg": mask_text(str(exc))[:500],
                "where": [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb)][-8:],
            }
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_if_requested() -> None:
    """JSON logs when HOTLINE_JSON_LOGS=1 (set by the production profile).

    Called by hotline.rasa.hooks.install(): ``rasa run`` installs its
    coloured console handler after reading --logging-config-file, so the
    JSON handler is put back once the channels are created."""
    if settings.get("HOTLINE_JSON_LOGS"):
        configure()


def configure(level: str | int | None = None, service: str | None = None) -> None:
    """Route every log line of this process through JsonFormatter on stderr."""
    if service:
        os.environ["HOTLINE_SERVICE"] = service
    level = level or settings.get("LOG_LEVEL")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    # Sanic and Rasa attach handlers of their own to some loggers.
    for name in ("sanic.root", "sanic.error", "sanic.access", "rasa", "rasa_sdk"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
