"""Load benchmark of the production profile: concurrent citizens over the
REST webhook through nginx.

    .venv/bin/python bench/load.py                      # 1, 2, 4 instances × 1, 20, 100 citizens
    .venv/bin/python bench/load.py --instances 2 --citizens 20 --seconds 20
    .venv/bin/python bench/load.py --profile            # + py-spy profile of one instance

For each number of Rasa instances it starts the whole profile (PostgreSQL,
Redis, nginx, 2 action servers) on free loopback ports in a throw-away
directory, warms every instance up, then for each concurrency runs that many
citizens, each repeating a five-turn conversation (greeting, an FAQ
question, a status check with the date of birth, thanks) under a new
conversation id each time. Every level is bounded by a message count and by
time (--seconds), and only 127.0.0.1 is ever contacted. Reported: messages
per second, p50/p95/p99 latency, errors, and the resident memory of every
process (PostgreSQL counted over all its backends).

The per-sender rate limit and nginx's per-address limit are raised for the
run (all citizens come from 127.0.0.1); everything else is the production
configuration. The load generator runs on the same two cores as the
servers, which costs the servers some CPU at 100 citizens.

--profile samples one Rasa instance with py-spy (pip install py-spy==0.4.1)
during a 20-citizen run and prints where the time goes per message,
grouped by pipeline component and policy.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from hotline.ops.local_servers import rss_mib
from hotline.ops.supervisor import ProdConfig, ProdProfile

CONVERSATION = [
    "привет",
    "какие документы нужны для загранпаспорта",
    "статус заявления 1234567890",
    "12.03.1985",
    "спасибо",
]
BENCH_ENV = {"RATE_LIMIT_MESSAGES": "1000000", "MAX_MESSAGE_CHARS": "1000"}


def percentile(values: List[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def run_level(url: str, citizens: int, max_messages: int, seconds: float, tag: str) -> Dict[str, float]:
    import aiohttp

    latencies: List[float] = []
    errors = 0
    sent = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=citizens + 4)
    timeout = aiohttp.ClientTimeout(total=60)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def citizen(n: int) -> None:
            nonlocal errors, sent
            loop_no = 0
            while time.monotonic() < deadline and sent < max_messages:
                sender = f"bench-{tag}-{n}-{loop_no}"
                loop_no += 1
                for text in CONVERSATION:
                    if time.monotonic() >= deadline or sent >= max_messages:
                        return
                    sent += 1
                    started = time.perf_counter()
                    try:
                        async with session.post(url, json={"sender": sender, "message": text}) as reply:
                            body = await reply.json(content_type=None)
                            if reply.status != 200 or not body:
                                errors += 1
                                continue
                    except Exception:  # noqa: BLE001 — counted, the run goes on
                        errors += 1
                        continue
                    latencies.append(time.perf_counter() - started)

        began = time.monotonic()
        await asyncio.gather(*(citizen(n) for n in range(citizens)))
        wall = time.monotonic() - began
    ms = [x * 1000 for x in latencies]
    return {
        "citizens": citizens, "messages": len(latencies), "errors": errors, "seconds": round(wall, 1),
        "throughput": len(latencies) / wall if wall else 0.0,
        "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms) if ms else float("nan"),
    }


def postgres_rss(profile: ProdProfile) -> float:
    pid_file = profile.pg_dir / "data" / "postmaster.pid"
    try:
        master = int(pid_file.read_text().split()[0])
    except (OSError, ValueError):
        return float("nan")
    total = rss_mib(master)
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            total += rss_mib(int(status.parent.name))
    return total


def memory(profile: ProdProfile) -> Dict[str, float]:
    result = {}
    for name, pid in sorted(profile.rasa_pids().items()):
        try:
            result[name] = rss_mib(pid)
        except OSError:
            pass
    nginx_master = profile.procs.get("nginx")
    if nginx_master is not None:
        workers = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/status")
                   if re.search(rf"^PPid:\s+{nginx_master.pid}$", _read(p), re.M)]
        result["nginx"] = rss_mib(nginx_master.pid) + sum(rss_mib(w) for w in workers)
    result["postgresql (all)"] = postgres_rss(profile)
    return result


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def warm_up(profile: ProdProfile) -> None:
    import requests

    # Each instance answers a few full conversations before measuring
    # (first calls build TensorFlow graphs and fill caches).
    for i in range(profile.config.rasa_instances):
        for n in range(2):
            for text in CONVERSATION:
                requests.post(f"{profile.rasa_url(i)}/webhooks/rest/webhook",
                              json={"sender": f"warm-{i}-{n}", "message": text}, timeout=120)


# --- profile ---------------------------------------------------------------------

# Leaf frames of threads that wait (py-spy cannot always tell they are idle).
IDLE = re.compile(r"\((concurrent/futures/thread\.py:81|sanic/server/runners\.py:155|threading\.py:\d+|"
                  r"selectors\.py:\d+|queue\.py:\d+)\)$")
# Inclusive shares: a sample counts for every group whose code is on its stack.
COMPONENTS = [
    ("jsonschema: validation of action-server replies", r"jsonschema/"),
    ("TensorFlow kernels (DIET, ResponseSelector, TED)", r"tensorflow/|keras/"),
    ("DIETClassifier", r"rasa/nlu/classifiers/diet_classifier\.py"),
    ("ResponseSelector", r"rasa/nlu/selectors/response_selector\.py"),
    ("TEDPolicy", r"rasa/core/policies/ted_policy\.py"),
    ("RulePolicy", r"rasa/core/policies/rule_policy\.py"),
    ("MemoizationPolicy", r"rasa/core/policies/memoization\.py"),
    ("tracker featurization for policies", r"rasa/core/featurizers/"),
    ("SpacyNLP + tokenizer (pymorphy3)", r"spacy|pymorphy"),
    ("CountVectorsFeaturizer", r"count_vectors_featurizer\.py"),
    ("LexicalSyntacticFeaturizer", r"lexical_syntactic_featurizer\.py"),
    ("RegexFeaturizer/RegexEntityExtractor", r"regex_featurizer\.py|regex_entity_extractor\.py"),
    ("LemmaLookupEntityExtractor", r"hotline/nlu/lemma_lookup"),
    ("tracker store (SQLAlchemy + psycopg2)", r"tracker_store\.py|sqlalchemy/|psycopg2"),
    ("tracker/events (de)serialisation", r"rasa/shared/core/trackers\.py|rasa/shared/core/events\.py"),
    ("lock store (Redis)", r"lock_store\.py|redis/"),
    ("HTTP client to the action servers", r"aiohttp/|rasa/utils/endpoints\.py"),
    ("NLG / responses", r"rasa/core/nlg/"),
    ("JSON encode/decode", r"json/(encoder|decoder)\.py"),
]


def profile_instance(profile: ProdProfile, url: str, seconds: float, citizens: int = 20) -> Tuple[Dict, int, int]:
    pid = profile.procs["rasa-1"].pid
    out = Path(tempfile.mkdtemp(prefix="bench-pyspy-")) / "stacks.txt"
    pyspy = Path(sys.executable).with_name("py-spy")
    spy = subprocess.Popen([str(pyspy), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200",
                            "-f", "raw", "-o", str(out), "--nonblocking"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    result = asyncio.run(run_level(url, citizens, 10**6, seconds - 2, "prof"))
    _, err = spy.communicate(timeout=seconds + 60)
    if not out.exists():
        raise RuntimeError(f"py-spy failed: {err[-500:]}")
    totals: Counter = Counter()
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if IDLE.search(stack.rsplit(";", 1)[-1]):
            continue
        n = int(count)
        samples += n
        for name, pattern in COMPONENTS:
            if re.search(pattern, stack):
                totals[name] += n
    return {"shares": totals, "run": result}, samples, result["messages"]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--citizens", type=int, nargs="*", default=[1, 20, 100])
    parser.add_argument("--seconds", type=float, default=25.0, help="time cap per level")
    parser.add_argument("--max-messages", type=int, default=3000, help="message cap per level")
    parser.add_argument("--profile", action="store_true", help="py-spy profile of one instance (1 instance)")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--model", default=None, help="a trained model (default: train if needed)")
    args = parser.parse_args(argv)

    from hotline.nlu.training import train

    model = Path(args.model) if args.model else train()
    rows = []
    memories = {}
    profile_result = None
    for instances in args.instances:
        base = Path(tempfile.mkdtemp(prefix=f"bench-{instances}-"))
        config = ProdConfig.ephemeral(base, rasa_instances=instances, model=model, extra_env=BENCH_ENV)
        config.rest_ip_rate = config.rest_ip_burst = 100000
        profile = ProdProfile(config)
        started = time.monotonic()
        print(f"== {instances} Rasa instance(s): starting ...", flush=True)
        profile.start(log=lambda _m: None)
        try:
            print(f"   started in {time.monotonic() - started:.0f} s; warming up", flush=True)
            warm_up(profile)
            url = f"{profile.public_url}/webhooks/rest/webhook"
            for citizens in args.citizens:
                result = asyncio.run(run_level(url, citizens, args.max_messages, args.seconds,
                                               f"{instances}-{citizens}"))
                result["instances"] = instances
                rows.append(result)
                print(f"   {citizens:>3} citizens: {result['throughput']:6.1f} msg/s  p50 {result['p50']:6.0f} ms  "
                      f"p95 {result['p95']:6.0f} ms  p99 {result['p99']:6.0f} ms  errors {result['errors']}",
                      flush=True)
            memories[instances] = memory(profile)
            if args.profile and instances == args.instances[0]:
                print("   profiling rasa-1 with py-spy ...", flush=True)
                profile_result = profile_instance(profile, f"{profile.rasa_url(0)}/webhooks/rest/webhook",
                                                  args.seconds)
        finally:
            profile.stop()

    print()
    print("| Rasa instances | citizens | messages | msg/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['instances']} | {r['citizens']} | {r['messages']} | {r['throughput']:.1f} | {r['p50']:.0f} | "
              f"{r['p95']:.0f} | {r['p99']:.0f} | {r['errors']} |")
    print()
    print("Resident memory (MiB), measured after the run:")
    for instances, mem in memories.items():
        parts = ", ".join(f"{k} {v:.0f}" for k, v in mem.items())
        print(f"  {instances} instance(s): {parts}")
    if profile_result:
        data, samples, messages = profile_result
        run = data["run"]
        print()
        print(f"Profile of one instance (py-spy, {samples} samples while busy, {messages} messages, "
              f"{run['throughput']:.1f} msg/s, 20 citizens straight to the instance):")
        print("| component | share of busy samples (inclusive) | CPU ms per message |")
        print("|---|---:|---:|")
        busy_ms = samples / 200 * 1000  # -r 200 samples per second
        for name, count in data["shares"].most_common():
            share = count / samples if samples else 0
            print(f"| {name} | {100 * share:.1f} % | {share * busy_ms / max(messages, 1):.1f} |")
        print(f"| all busy samples | 100 % | {busy_ms / max(messages, 1):.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "memory": memories,
                                               "profile": profile_result and {
                                                   "shares": dict(profile_result[0]["shares"]),
                                                   "samples": profile_result[1]}}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
