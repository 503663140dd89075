"""Compare NLU pipelines on the held-out set (make bench-nlu).

For config.yml and every file in configs/, trains (or reuses) an NLU model
and prints intent accuracy, macro-F1, FAQ-key accuracy, parse latency and
training time on tests/nlu_heldout.yml.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.training import train, training_seconds_file  # noqa: E402


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


def evaluate(config: str) -> dict:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    model = train(config, nlu_only=config != "config.yml")
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
    seconds_file = training_seconds_file(model)
    return {
        "config": config,
        "examples": len(pairs),
        "intent_accuracy": sum(e == p for e, p in pairs) / len(pairs),
        "macro_f1": macro_f1(pairs),
        "faq_key_accuracy": faq_hits / faq_total,
        "parse_ms_p50": statistics.median(latencies),
        "parse_ms_p95": latencies[int(0.95 * (len(latencies) - 1))],
        "training_s": json.loads(seconds_file.read_text())["seconds"] if seconds_file.exists() else None,
    }


def main() -> int:
    os.chdir(ROOT)
    configs = ["config.yml"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").glob("*.yml"))
    rows = [evaluate(c) for c in configs]
    print()
    print(f"{'pipeline':<26}{'intent acc':>11}{'macro-F1':>10}{'FAQ key':>9}{'p50 ms':>8}{'p95 ms':>8}{'train s':>9}")
    for r in rows:
        print(f"{r['config']:<26}{r['intent_accuracy']:>11.3f}{r['macro_f1']:>10.3f}{r['faq_key_accuracy']:>9.3f}"
              f"{r['parse_ms_p50']:>8.1f}{r['parse_ms_p95']:>8.1f}{r['training_s'] or float('nan'):>9.0f}")
    out = ROOT / "var" / "results" / "bench_nlu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"\n(held-out set: {rows[0]['examples']} utterances; training time includes the whole model for config.yml, NLU only for variants)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
