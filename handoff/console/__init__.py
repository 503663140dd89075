"""The operators' web console: `python -m handoff.console` (see app.py)."""
