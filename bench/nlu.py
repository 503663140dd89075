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


def train_timed(config: str, data: Path, out: Path, cache: Path) -> tuple[Path, float]:
    """Train the whole model with `cache` as Rasa's cache; return (archive, seconds)."""
    name = Path(config).stem
    command = [sys.executable, "-m", "rasa", "train", "--data", str(data), "--config", config,
               "--domain", "domain.yml", "--out", str(out), "--fixed-model-name", name]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_CACHE_DIRECTORY": str(cache)}
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    return out / f"{name}.tar.gz", time.monotonic() - started


def macro_f1(pairs):
    labels = {e for e, _ in pairs} | {p for _, p in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def evaluate(config: str, edit: bool = True) -> dict:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    work = WORK / Path(config).stem
    shutil.rmtree(work, ignore_errors=True)
    cache, data = work / "cache", work / "data"
    shutil.copytree(ROOT / "data", data)
    model, scratch_seconds = train_timed(config, data, work / "scratch", cache)
    edit_seconds = None
    if edit:
        (data / "nlu" / "bench_edit.yml").write_text(EDIT, encoding="utf-8")
        edit_seconds = train_timed(config, data, work / "edited", cache)[1]
    agent = Agent.load(str(model))
    examples = load_data(str(ROOT / "tests" / "nlu_heldout.yml")).intent_examples
    loop = asyncio.new_event_loop()
    loop.run_until_complete(agent.parse_message("прогрев"))
    pairs, faq_hits, faq_total, latencies = [], 0, 0, []
    for example in examples:
        started = time.perf_counter()
        result = loop.run_until_complete(agent.parse_message(example.get("text")))
        latencies.append((time.perf_counter() - started) * 1000)
        pairs.append((example.get("intent"), result["intent"]["name"]))
        if example.get("intent") == "faq":
            faq_total += 1
            selected = result.get("response_selector", {}).get("faq", {}).get("response", {})
            faq_hits += result["intent"]["name"] == "faq" and \
                selected.get("intent_response_key") == example.get("intent_response_key")
    latencies.sort()
    return {
        "config": config,
        "examples": len(pairs),
        "intent_accuracy": sum(e == p for e, p in pairs) / len(pairs),
        "macro_f1": macro_f1(pairs),
        "faq_key_accuracy": faq_hits / faq_total,
        "parse_ms_p50": statistics.median(latencies),
        "parse_ms_p95": latencies[int(0.95 * (len(latencies) - 1))],
        "train_scratch_s": round(scratch_seconds, 1),
        "train_after_edit_s": round(edit_seconds, 1) if edit_seconds is not None else None,
        "archive_mb": round(model.stat().st_size / 2**20, 1),
    }


def table(rows: list[dict]) -> str:
    lines = [f"{'pipeline':<22}{'intent acc':>11}{'macro-F1':>10}{'FAQ key':>9}{'p50 ms':>8}{'p95 ms':>8}"
             f"{'train s':>9}{'edit s':>8}{'MB':>7}"]
    for r in rows:
        edit = r["train_after_edit_s"]
        lines.append(f"{r['config']:<22}{r['intent_accuracy']:>11.3f}{r['macro_f1']:>10.3f}"
                     f"{r['faq_key_accuracy']:>9.3f}{r['parse_ms_p50']:>8.1f}{r['parse_ms_p95']:>8.1f}"
                     f"{r['train_scratch_s']:>9.0f}{edit if edit is not None else float('nan'):>8.0f}"
                     f"{r['archive_mb']:>7.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", help="default: config.yml and configs/*.yml")
    parser.add_argument("--no-edit", action="store_true", help="skip the retrain after a small edit")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    configs = args.configs or ["config.yml"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").glob("*.yml"))
    rows = [evaluate(c, edit=not args.no_edit) for c in configs]
    print()
    print(table(rows))
    out = ROOT / "var" / "results" / "bench_nlu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"\n(held-out set: {rows[0]['examples']} utterances; whole model trained (NLU and dialogue); "
          f"train s: from scratch with an empty cache; edit s: after adding 5 NLU examples, cache kept)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
