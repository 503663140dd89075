"""Train only when something the model depends on has changed.

The model file is named after a fingerprint of everything that shapes it —
config, domain, training data, the project's NLU components and the spaCy
pipeline — so an unchanged tree reuses its model and any edit trains anew.
Rasa's own fingerprint does not see the custom components' code, which is
why this exists.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from hotline.paths import ROOT

# hotline/nlu holds every component, the morphology and the spaCy builder;
# entities.py is shared with the action server but shapes the NLU output too.
INPUTS = ("config.yml", "domain.yml", "data", "hotline/nlu", "hotline/entities.py")
# This file sits in hotline/nlu but decides when to train, not what a model
# learns: counting it would retrain every model for an edit to this script.
SELF = Path("hotline", "nlu", "training.py")
# Libraries whose version changes what a model learns or how it loads; the
# other pins (channels, tests) do not make a new model necessary.
MODEL_LIBRARIES = ("rasa", "spacy", "pymorphy3", "pymorphy3-dicts-ru", "tensorflow", "numpy", "scikit-learn")


def fingerprint(config: str = "config.yml", root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for library in MODEL_LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    inputs = [config] + [p for p in INPUTS if p != "config.yml"]
    for name in inputs:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            # Only files Rasa or Python read: CSVs or notes beside them don't count.
            if file.is_file() and (file.suffix in (".yml", ".yaml", ".py") or file == path):
                if file.relative_to(root) == SELF:
                    continue
                digest.update(str(file.relative_to(root)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(config: str = "config.yml", root: Path = ROOT) -> Path:
    stem = Path(config).stem
    prefix = "hotline" if stem == "config" else f"hotline-{stem}"
    return root / "models" / f"{prefix}-{fingerprint(config, root)}.tar.gz"


def train(config: str = "config.yml", force: bool = False, nlu_only: bool = False,
          out: Optional[Path] = None, root: Path = ROOT) -> Path:
    """``out``: the folder for the model instead of models/ (the workbench's
    candidates, which must not become the newest model of models/); ``root``:
    the project copy whose data is trained."""
    target = model_path(config, root)
    if out is not None:
        target = Path(out).resolve() / target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    # Test sessions and make targets may ask for the same model at once: one
    # trains, the others wait and then reuse it. The lock is per model, so
    # a bench training a variant does not hold up the tests' model.
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _train_locked(target, config, force, nlu_only, root)


def _train_locked(target: Path, config: str, force: bool, nlu_only: bool, root: Path) -> Path:
    if target.exists() and not force:
        print(f"model is up to date: {_shown(target)}")
        target.touch()  # newest file, so `rasa run` without --model picks it too
        return target
    data = ["nlu", "--nlu", "data"] if nlu_only else ["--data", "data"]
    command = [
        sys.executable, "-m", "rasa", "train", *data, "--config", config, "--domain", "domain.yml",
        "--out", str(target.parent), "--fixed-model-name", target.name[: -len(".tar.gz")],
    ]
    started = time.monotonic()
    subprocess.run(command, cwd=root, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    seconds = time.monotonic() - started
    # Benchmarks report the training time of a model trained earlier.
    training_seconds_file(target).write_text(json.dumps({"seconds": round(seconds, 1)}))
    print(f"trained {_shown(target)} in {seconds:.0f} s")
    return target


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def training_seconds_file(model: Path) -> Path:
    return model.with_name(model.name.replace(".tar.gz", ".training.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the assistant if its inputs changed.")
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--nlu-only", action="store_true")
    parser.add_argument("--out", type=Path, help="folder for the model (default: models/)")
    parser.add_argument("--project", type=Path, default=ROOT, help="the project copy to train (default: this one)")
    parser.add_argument("--print-path", action="store_true", help="only print the model path")
    args = parser.parse_args(argv)
    if args.print_path:
        print(model_path(args.config, args.project.resolve()))
        return 0
    train(args.config, force=args.force, nlu_only=args.nlu_only, out=args.out, root=args.project.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
