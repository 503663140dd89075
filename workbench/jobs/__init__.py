"""Training jobs of the workbench: validate → train → held-out NLU test →
story test, one at a time, in a background process.

* **One at a time, across processes.** ``Jobs.start`` takes an exclusive
  ``flock`` on ``<state>/training.lock`` without waiting and hands the open
  lock to the runner process it starts (``pass_fds``): the lock lives exactly
  as long as the runner, whichever workbench process started it. A second
  request while it is held is refused (``Busy``) with a polite Russian
  message naming who started the running job and its step — refused rather
  than queued, so that a trainer never waits for a job built from data that
  another trainer was still editing.
* **The runner** (``python -m workbench.jobs run …``) is niced and detached
  from the workbench (its own session): a workbench restart does not stop a
  training, and the page shows the job from its JSON file
  (``<state>/jobs/<id>/job.json``) and its log (``log.txt``). A runner killed
  mid-way leaves a ``running`` job whose lock is free: the next read marks it
  interrupted.
* **The running model is never touched.** The candidate model goes to
  ``<state>/models/`` under its fingerprinted name (hotline.nlu.training): a model
  already trained from the same inputs — by an earlier job or by
  ``make train`` — is reused instead of trained again. Activation is a
  separate, explicit step (workbench/activation.py). A failing step ends the
  job with that step marked and the tail of its log.
* **No personal data in the log.** Every line of the steps' output goes
  through the project's masking (hotline.privacy) before it is written; the
  data files hold none, but an utterance pasted into them by mistake would
  otherwise be shown to every trainer.

Modules: ``common`` (Workspace, job files, masking), ``registry`` (Jobs:
the lock, starting, reading, stopping), ``runner`` (the steps),
``__main__`` (the runner's command line).
"""
from workbench.jobs.common import (CANCEL, LOG_TAIL, MAX_LINE, STEPS, Workspace, clock, copy_file, mask_line, now,
                                   read_json, when, write_json)
from workbench.jobs.registry import Busy, Jobs, NotStopped
from workbench.jobs.runner import STEP_TIMEOUT_S, Cancelled, Runner, StepFailed

__all__ = ["Busy", "CANCEL", "Cancelled", "Jobs", "LOG_TAIL", "MAX_LINE", "NotStopped", "Runner", "STEPS",
           "STEP_TIMEOUT_S", "StepFailed", "Workspace", "clock", "copy_file", "mask_line", "now", "read_json",
           "when", "write_json"]
