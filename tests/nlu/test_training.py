"""Training is skipped exactly when nothing the model depends on changed."""
from __future__ import annotations

import shutil

from helpers import ROOT
from hotline.training import INPUTS, fingerprint


def _copy_inputs(dst):
    for name in INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst / name)


def test_fingerprint_changes_with_data_and_only_then(tmp_path):
    _copy_inputs(tmp_path)
    before = fingerprint(root=tmp_path)
    (tmp_path / "README.md").write_text("docs do not matter")
    assert fingerprint(root=tmp_path) == before
    greet = tmp_path / "data" / "nlu" / "chitchat.yml"
    greet.write_text(greet.read_text() + "\n")
    assert fingerprint(root=tmp_path) != before
