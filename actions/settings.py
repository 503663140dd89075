"""Deployment settings of the action server, read from the environment.

Contact details default to the slot initial values in domain.yml (the one
place trainers edit them); a deployer can override each one with an
environment variable without retraining the model.
"""
from __future__ import annotations

import os

# slot name -> environment variable that overrides it
CONTACT_ENV = {
    "hotline_phone": "HOTLINE_PHONE",
    "hotline_hours": "HOTLINE_HOURS",
    "operator_hours": "OPERATOR_HOURS",
    "support_email": "SUPPORT_EMAIL",
    "portal_url": "PORTAL_URL",
}


def contact_overrides(environ: dict[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    return {slot: env[var].strip() for slot, var in CONTACT_ENV.items() if env.get(var, "").strip()}
