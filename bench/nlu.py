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

import asyncio
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def f1(pairs, label):
    tp = sum(1 for e, p in pairs if e == label and p == label)
    fp = sum(1 for e, p in pairs if e != label and p == label)
    fn = sum(1 for e, p in pairs if e == label and p != label)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def macro_f1(pairs):
    labels = {e for e, _ in pairs} | {p for _, p in pairs}
    return sum(f1(pairs, label) for label in labels) / len(labels)


def weakest(pairs, keys, n=5):
    """The n intents with the lowest F1 and the n FAQ keys with the lowest
    accuracy: an average hides the one intent a data edit broke."""
    intents = sorted(((round(f1(pairs, e), 3), e) for e in {e for e, _ in pairs}))[:n]
    accuracy = {k: sum(hits) / len(hits) for k, hits in keys.items()}
    faq = sorted((round(a, 3), k) for k, a in accuracy.items())[:n]
    return {"weakest_intents": [[e, s] for s, e in intents], "weakest_faq_keys": [[k, a] for a, k in faq]}


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
    import logging

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.log_utils import configure_structlog

    if model is None:
        model, figures = train_twice(config, edit)
    else:
        figures = {"train_scratch_s": None, "train_scratch_cpu_s": None,
                   "train_after_edit_s": None, "train_after_edit_cpu_s": None}
    # Rasa logs every parse at debug level; printing it would be timed too.
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    examples = load_data(str(ROOT / "tests" / "nlu_heldout.yml")).intent_examples
    loop = asyncio.new_event_loop()
    loop.run_until_complete(agent.parse_message("прогрев"))
    pairs, faq_hits, faq_total, latencies, keys = [], 0, 0, [], {}
    for example in examples:
        started = time.perf_counter()
        result = loop.run_until_complete(agent.parse_message(example.get("text")))
        latencies.append((time.perf_counter() - started) * 1000)
        pairs.append((example.get("intent"), result["intent"]["name"]))
        if example.get("intent") == "faq":
            faq_total += 1
            selected = result.get("response_selector", {}).get("faq", {}).get("response", {})
            hit = result["intent"]["name"] == "faq" and \
                selected.get("intent_response_key") == example.get("intent_response_key")
            faq_hits += hit
            keys.setdefault(example.get("intent_response_key"), []).append(hit)
    latencies.sort()
    return {
        "config": config,
        "examples": len(pairs),
        "intent_accuracy": sum(e == p for e, p in pairs) / len(pairs),
        "macro_f1": macro_f1(pairs),
        "faq_key_accuracy": faq_hits / faq_total,
        "parse_ms_p50": statistics.median(latencies),
        "parse_ms_p95": latencies[int(0.95 * (len(latencies) - 1))],
        **figures,
        "archive_mb": round(model.stat().st_size / 2**20, 1),
        **weakest(pairs, keys),
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
