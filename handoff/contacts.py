"""Contact details and operators' hours a citizen reads, from the environment.

Used by the action server (session start) and the operators' canned answers,
so it lives below both (actions import handoff, never the other way).

Contact details default to the slot initial values in domain.yml (the one
place trainers edit them); a deployer can override each one with an
environment variable without retraining the model. The operators' hours a
citizen reads follow HANDOFF_HOURS when the deployment configured them
(and OPERATOR_HOURS does not say otherwise); the default is the article's
«в стандартные рабочие часы».
"""
from __future__ import annotations

from typing import Mapping, Optional

from handoff.config import Settings
from hotline import settings
from handoff.hours import ScheduleError, schedule_from_settings

# slot name -> environment variable that overrides it
CONTACT_ENV = {
    "hotline_phone": "HOTLINE_PHONE",
    "hotline_hours": "HOTLINE_HOURS",
    "operator_hours": "OPERATOR_HOURS",
    "support_email": "SUPPORT_EMAIL",
    "portal_url": "PORTAL_URL",
}


def configured_operator_hours(env: Optional[Mapping[str, str]]) -> Optional[str]:
    """«пн–пт 09:00–18:00 по московскому времени» from HANDOFF_HOURS; None when not configured."""
    try:
        schedule = schedule_from_settings(Settings.load(env))
    except ScheduleError:
        return None
    return schedule.describe() if schedule else None


def contact_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    values = {slot: settings.get(var, environ) for slot, var in CONTACT_ENV.items() if settings.get(var, environ)}
    if "operator_hours" not in values:
        hours = configured_operator_hours(environ)
        if hours:
            values["operator_hours"] = hours
    return values
