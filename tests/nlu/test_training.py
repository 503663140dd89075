"""Training is skipped exactly when nothing the model depends on changed."""
from __future__ import annotations

import shutil

from helpers import ROOT
from hotline.nlu.training import INPUTS, SELF, fingerprint


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


def test_editing_the_trainer_itself_keeps_every_model(tmp_path):
    # The trainer lives among the NLU components it fingerprints; an edit to
    # it must not retrain, an edit to a component must.
    _copy_inputs(tmp_path)
    before = fingerprint(root=tmp_path)
    trainer = tmp_path / SELF
    trainer.write_text(trainer.read_text() + "\n# a comment\n")
    assert fingerprint(root=tmp_path) == before
    component = tmp_path / "hotline" / "nlu" / "morph.py"
    component.write_text(component.read_text() + "\n# a comment\n")
    assert fingerprint(root=tmp_path) != before
