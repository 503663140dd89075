"""Modules that hook into Rasa internals refuse to start on another Rasa."""
from __future__ import annotations

import subprocess
import sys

import pytest
import rasa

from helpers import ROOT
from hotline.rasa.version_guard import WRITTEN_FOR, UnsupportedRasaVersion, require_rasa

HOOK_MODULES = ["hotline.rasa.lock_store", "hotline.rasa.tracker_store", "connectors.webchat.channel"]


def test_the_pinned_rasa_is_one_the_hooks_were_written_for():
    pins = [line.split("==")[1].strip() for line in (ROOT / "requirements.lock").read_text().splitlines()
            if line.startswith("rasa==")]
    assert pins and pins[0] in WRITTEN_FOR
    require_rasa("test")  # the installed one passes


def test_another_rasa_is_refused_with_the_hook_named(monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(UnsupportedRasaVersion, match=r"my\.hook .*written for Rasa 3\.6\.21.*Rasa 3\.7\.0"):
        require_rasa("my.hook")


def test_every_hook_refuses_to_load_on_another_rasa():
    # A fresh interpreter, so the modules are imported (and checked) anew.
    script = f"""
import rasa
rasa.__version__ = "3.7.0"
from hotline.rasa.version_guard import UnsupportedRasaVersion
refused = []
for name in {HOOK_MODULES!r}:
    try:
        __import__(name)
    except UnsupportedRasaVersion:
        refused.append(name)
from hotline.rasa import hooks as rasa_hooks
try:
    rasa_hooks.install()
except UnsupportedRasaVersion:
    refused.append("hotline.rasa.hooks")
print(",".join(refused))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].split(",") == HOOK_MODULES + ["hotline.rasa.hooks"]
