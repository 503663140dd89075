"""How long a trainer waits for «Запустить обучение» in the workbench: one
training job (validate → train → held-out test → story test) run as the
workbench runs it (workbench/jobs.py: niced background process), timed per
step.

    .venv/bin/python bench/workbench_training.py

On the repository's data, with the job's state in var/bench-workbench/. When
`make train` is done the train step reuses that model (as the workbench does
for unchanged data), and the time it took to train is printed from its
.training.json: a job after a data edit costs the checks plus that. No Rasa
server is asked, so the running model's one-off evaluation is left out.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time

from hotline.nlu.training import training_seconds_file
from hotline.paths import ROOT
from workbench.jobs import Jobs, Workspace, read_json

WORK = ROOT / "var" / "bench-workbench"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    jobs = Jobs(Workspace(project=ROOT, state=WORK))
    started = time.monotonic()
    job = jobs.start("bench", "bench")
    while (job := jobs.get(job["id"]))["status"] == "running":
        time.sleep(1)
    total = time.monotonic() - started
    print(f"{'step':<44}{'status':>10}{'seconds':>10}")
    for step in job["steps"]:
        seconds = "-" if step["seconds"] is None else f"{step['seconds']:.1f}"
        print(f"{step['title']:<44}{step['status']:>10}{seconds:>10}")
    print(f"{'job, start to finish':<44}{job['status']:>10}{total:>10.1f}")
    trained = read_json(training_seconds_file(ROOT / "models" / (job.get("model") or "-")))
    if trained:
        print(f"(the train step reused models/{job['model']}; training it took {trained['seconds']:.0f} s)")
    if job["error"]:
        print(job["error"])
        print("\n".join(jobs.log(job["id"], 30)))
    return 0 if job["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
