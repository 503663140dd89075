"""``python -m workbench.jobs run --job <id> …``: the runner process a
training job is (started by ``Jobs.start``, which hands it the lock)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import List, Optional

from hotline.paths import ROOT
from workbench.jobs.common import Workspace
from workbench.jobs.runner import Runner

NICE = 10


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.jobs", description="Run one workbench training job.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--job", required=True)
    run.add_argument("--project", type=Path, default=ROOT)
    run.add_argument("--state", type=Path, default=ROOT / "var" / "workbench")
    run.add_argument("--rasa-url")
    args = parser.parse_args(argv)
    os.nice(NICE)
    ws = Workspace(project=args.project.resolve(), state=args.state.resolve(), rasa_url=args.rasa_url)
    activation = None
    if args.rasa_url:
        from workbench.activation import Activation

        activation = Activation(ws.state, args.rasa_url, [ws.models, ws.project / "models", ROOT / "models"])
    runner = Runner(ws, args.job, activation)
    signal.signal(signal.SIGTERM, runner.cancel)
    job = runner.run()
    return 0 if job["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
