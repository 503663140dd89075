"""Compare pipelines on the held-out set and the trainer's loop (make bench-nlu).

For config.yml and every file in configs/ (or those named on the command
line), trains the whole model (NLU and dialogue) twice in a scratch folder
under var/bench-nlu/: from scratch with an empty Rasa cache, then after five
NLU examples were added, with the cache of the first run (what `make train`
costs a trainer after a small edit). Prints intent accuracy, macro-F1 and
FAQ-key accuracy on tests/nlu_heldout.yml, parse latency p50/p95, both
training times and the archive size.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from hotline.paths import ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

WORK = ROOT / "var" / "bench-nlu"
# The «small edit»: five new examples of an existing intent.
EDIT = """version: "3.1"
nlu:
- intent: thank
  examples: |
    - спасибо вам огромное за ответ
    - благодарю, очень помогли
    - спасибочки большое
    - ой спасибо, разобралась
    - премного благодарен
"""


def train_timed(config: str, data: Path, out: Path, cache: Path) -> tuple[Path, float, float]:
    """Train the whole model with `cache` as Rasa's cache.

    Returns (archive, wall seconds, CPU seconds): on a shared machine the CPU
    time is the figure that does not depend on what else is running."""
    name = Path(config).stem
    command = [sys.executable, "-m", "rasa", "train", "--data", str(data), "--config", config,
               "--domain", "domain.yml", "--out", str(out), "--fixed-model-name", name]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_CACHE_DIRECTORY": str(cache)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out / f"{name}.tar.gz", wall, cpu


def train_twice(config: str, edit: bool) -> tuple[Path, dict]:
    work = WORK / Path(config).stem
    shutil.rmtree(work, ignore_errors=True)
    cache, data = work / "cache", work / "data"
    shutil.copytree(ROOT / "data", data)
    model, wall, cpu = train_timed(config, data, work / "scratch", cache)
    figures = {"train_scratch_s": round(wall, 1), "train_scratch_cpu_s": round(cpu, 1),
               "train_after_edit_s": None, "train_after_edit_cpu_s": None}
    if edit:
        (data / "nlu" / "bench_edit.yml").write_text(EDIT, encoding="utf-8")
        _, wall, cpu = train_timed(config, data, work / "edited", cache)
        figures.update(train_after_edit_s=round(wall, 1), train_after_edit_cpu_s=round(cpu, 1))
    return model, figures


def evaluate(config: str, edit: bool = True, model: Path | None = None) -> dict:
    """Held-out figures of `config`; trains it unless an archive is given."""
    from hotline import heldout

    if model is None:
        model, figures = train_twice(config, edit)
    else:
        figures = {"train_scratch_s": None, "train_scratch_cpu_s": None,
                   "train_after_edit_s": None, "train_after_edit_cpu_s": None}
    rows = heldout.predict(heldout.archive_parser(model), heldout.held_out_examples())
    latencies = sorted(r.ms for r in rows)
    return {
        "config": config,
        **heldout.summary(rows),
        "parse_ms_p50": statistics.median(latencies),
        "parse_ms_p95": latencies[int(0.95 * (len(latencies) - 1))],
        **figures,
        "archive_mb": round(model.stat().st_size / 2**20, 1),
        **heldout.weakest(rows),
    }


def table(rows: list[dict]) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    lines = [f"{'pipeline':<20}{'intent acc':>11}{'macro-F1':>10}{'FAQ key':>9}{'p50 ms':>8}{'p95 ms':>8}"
             f"{'train s (cpu)':>15}{'edit s (cpu)':>14}{'MB':>7}"]
    for r in rows:
        train = f"{seconds(r['train_scratch_s'])} ({seconds(r['train_scratch_cpu_s'])})"
        edit = f"{seconds(r['train_after_edit_s'])} ({seconds(r['train_after_edit_cpu_s'])})"
        lines.append(f"{r['config']:<20}{r['intent_accuracy']:>11.3f}{r['macro_f1']:>10.3f}"
                     f"{r['faq_key_accuracy']:>9.3f}{r['parse_ms_p50']:>8.1f}{r['parse_ms_p95']:>8.1f}"
                     f"{train:>15}{edit:>14}{r['archive_mb']:>7.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", help="default: config.yml and configs/*.yml")
    parser.add_argument("--no-edit", action="store_true", help="skip the retrain after a small edit")
    parser.add_argument("--model", action="append", default=[], metavar="CONFIG=ARCHIVE",
                        help="evaluate an archive trained earlier instead of training CONFIG")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    archives = {c: Path(a).resolve() for c, a in (m.split("=", 1) for m in args.model)}
    configs = args.configs or ["config.yml"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").glob("*.yml"))
    rows = [evaluate(c, edit=not args.no_edit, model=archives.get(c)) for c in configs]
    print()
    print(table(rows))
    for r in rows:
        print(f"\n{r['config']}: weakest intents (F1) "
              + ", ".join(f"{e} {s:.2f}" for e, s in r["weakest_intents"])
              + "; weakest FAQ keys (accuracy) "
              + ", ".join(f"{k[4:]} {a:.2f}" for k, a in r["weakest_faq_keys"]))
    out = ROOT / "var" / "results" / "bench_nlu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"\n(held-out set: {rows[0]['examples']} utterances; whole model trained (NLU and dialogue); "
          f"train s: wall seconds from scratch with an empty cache, CPU seconds in brackets; "
          f"edit s: after adding 5 NLU examples, cache kept; -: not trained here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
