#!/usr/bin/env bash
# Create .venv from Python 3.10 and install the pinned dependencies.
# Idempotent: does nothing when the lock file has not changed since the last
# install, so every make target can call it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-/root/.pyenv/versions/3.10.13/bin/python3.10}"
VENV=.venv
STAMP="$VENV/.installed"

if [ ! -x "$VENV/bin/python" ]; then
  if [ ! -x "$PYTHON" ] && command -v python3.10 >/dev/null; then PYTHON=$(command -v python3.10); fi
  "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 10), "Rasa 3.6 needs Python 3.10"'
  "$PYTHON" -m venv "$VENV"
fi

want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo ">> installing pinned dependencies into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check pip==24.0
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$STAMP"
fi

# The spaCy pipeline is made here, not downloaded (see hotline/nlu/spacy_pipeline.py).
spacy_stamp=models/spacy_ru/.source
spacy_want=$(sha256sum hotline/nlu/spacy_pipeline.py hotline/nlu/morph.py requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$spacy_stamp" 2>/dev/null)" != "$spacy_want" ]; then
  "$VENV/bin/python" -m hotline.nlu.spacy_pipeline models/spacy_ru
  echo "$spacy_want" > "$spacy_stamp"
fi
mkdir -p var
bash scripts/setup_tools.sh
bash scripts/setup_node.sh
