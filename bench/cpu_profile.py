"""CPU seconds per process and, inside Rasa, per component (bench/load.py).

Two sources, because each alone misleads on a shared machine:

* ``ProcessCPU`` reads user+system CPU time from /proc/<pid>/stat of a
  process and its children (PostgreSQL backends, nginx workers). CPU time
  does not grow when other programs steal the cores, so CPU ms per message
  compare across machines and loads, unlike msg/s.
* ``Sampler`` runs py-spy on a Rasa process and tells which component the
  busy samples are in; a component's CPU is the process's CPU times its
  share of busy samples. py-spy reads the target's memory with ptrace
  rights: as root (or with CAP_SYS_PTRACE), or as the servers' user where
  /proc/sys/kernel/yama/ptrace_scope is 0 or absent — scope 1 admits only
  ancestors, and py-spy is the servers' sibling here. When it cannot
  attach, the run goes on without the split, prints py-spy's error and
  keeps the per-process figures.

py-spy keeps the samples of threads the OS shows running or runnable
(TensorFlow's small inference ops run mostly on the calling thread), and
samples whose innermost frame is a wait of the event loop, a queue or a
thread pool are dropped as idle too. A runnable thread that waits for a
core counts as busy where it stands: on an oversubscribed machine a socket
write that wakes the action server, which then takes the core, inflates
«action HTTP». On a quiet machine the split follows the CPU; the
per-process figures from /proc hold either way.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

TICKS = os.sysconf("SC_CLK_TCK")
RATE = 100  # py-spy samples per second

# Innermost frames of a thread that waits.
IDLE = re.compile(r"\((concurrent/futures/thread\.py|sanic/server/runners\.py|threading\.py|selectors\.py|"
                  r"queue\.py):\d+\)$")

# Each busy sample goes to the first component whose pattern is on its stack.
# The order matters: the broker's stream_events runs inside the tracker
# store's save, SQL inside both, the NLU inside the channel's handler.
COMPONENTS: List[Tuple[str, str]] = [
    ("event broker + handoff hooks", r"handoff/broker\.py|\bstream_events \(|\b_stream_new_events \(|"
                                     r"hotline/ops/metrics\.py|\bturn_events \("),
    ("tracker store: SQL", r"(tracker_store\.py.*(sqlalchemy/|psycopg2|sqlite3))"),
    ("tracker store: (de)serialisation, masking", r"tracker_store\.py"),
    ("lock store", r"lock_store\.py|/redis/|rasa/core/lock\.py"),
    ("action-server HTTP (client side)", r"aiohttp/|hotline/rasa/http_pool\.py|rasa/utils/endpoints\.py|"
                                         r"jsonschema/|\b_validate_action_result \("),
    ("NLU", r"\bparse_message \(|rasa/nlu/|hotline/nlu/"),
    ("policies", r"\b_predict_next_with_tracker \(|rasa/core/policies/|rasa/core/featurizers/"),
    ("responses, other actions", r"rasa/core/nlg/|rasa/core/actions/|\b_run_action \("),
]
CHANNEL = "channel, sanic, event loop, rest"
ORDER = [name for name, _ in COMPONENTS] + [CHANNEL]


def classify(stack: str) -> str:
    for name, pattern in COMPONENTS:
        if re.search(pattern, stack):
            return name
    return CHANNEL


# --- /proc -----------------------------------------------------------------------

def _stat(pid: int) -> Optional[Tuple[int, float]]:
    """(parent pid, CPU seconds) of a live process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and of its live descendants."""
    parents: Dict[int, int] = {}
    cpu: Dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            got = _stat(int(entry.name))
            if got:
                parents[int(entry.name)], cpu[int(entry.name)] = got
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in cpu:
            continue
        seen.add(pid)
        total += cpu[pid]
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


class ProcessCPU:
    """CPU seconds spent by named process trees between start() and stop()."""

    def __init__(self, roots: Dict[str, Iterable[int]]) -> None:
        self.roots = {name: list(pids) for name, pids in roots.items()}
        self.before: Dict[str, float] = {}
        self.spent: Dict[str, float] = {}

    def _now(self) -> Dict[str, float]:
        return {name: sum(tree_cpu(pid) for pid in pids) for name, pids in self.roots.items()}

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> Dict[str, float]:
        after = self._now()
        self.spent = {name: max(0.0, after[name] - self.before.get(name, 0.0)) for name in after}
        return self.spent


# --- py-spy --------------------------------------------------------------------------

class Sampler:
    """py-spy on some processes for a fixed time; shares of busy samples by component."""

    def __init__(self, pids: Iterable[int], seconds: float) -> None:
        self.pids = list(pids)
        self.seconds = seconds
        self.dir = Path(tempfile.mkdtemp(prefix="bench-pyspy-"))
        self.procs: List[Tuple[subprocess.Popen, Path]] = []
        self.error: Optional[str] = None

    def start(self) -> None:
        pyspy = Path(sys.executable).with_name("py-spy")
        for pid in self.pids:
            out = self.dir / f"{pid}.txt"
            proc = subprocess.Popen([str(pyspy), "record", "-p", str(pid), "-d", str(max(1, int(self.seconds))),
                                     "-r", str(RATE), "-f", "raw", "-o", str(out), "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self.procs.append((proc, out))

    def stop(self) -> Optional[Counter]:
        """Busy samples per component over all processes, or None (self.error says why)."""
        totals: Counter = Counter()
        for proc, out in self.procs:
            try:
                _, err = proc.communicate(timeout=self.seconds + 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            if not out.exists():
                self.error = (err or "").strip().splitlines()[-1:] or ["no output"]
                self.error = f"py-spy could not sample: {self.error[0]}"
                return None
            totals.update(parse(out.read_text()))
        return totals


def parse(raw: str) -> Counter:
    """py-spy raw output (``frame;frame;... count``, outermost first) → busy samples per component."""
    totals: Counter = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        if IDLE.search(stack.rsplit(";", 1)[-1]):
            continue
        totals[classify(stack)] += int(count)
    return totals


def split(cpu_seconds: float, samples: Counter) -> Dict[str, float]:
    """A process's CPU seconds divided by the components' shares of its busy samples."""
    busy = sum(samples.values())
    if not busy:
        return {}
    return {name: cpu_seconds * samples.get(name, 0) / busy for name in ORDER}


def ptrace_note() -> str:
    try:
        scope = Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        scope = "absent (no Yama: ptrace by the same user or root)"
    return f"uid {os.geteuid()}, kernel.yama.ptrace_scope {scope}"
