"""Cost per message, before and after, in one run (make bench-load).

    .venv/bin/python bench/load.py              # the whole table (~10 min on a quiet 2-core machine)
    .venv/bin/python bench/load.py --quick      # shorter levels, the same rows (~6 min)
    .venv/bin/python bench/load.py --no-diet    # only the lean pipeline
    .venv/bin/python bench/load.py --variant "Rasa's store save:HOTLINE_FAST_TRACKER_STORE=0"

Rows: the DIET pipeline (configs/diet.yml, the «before») and the lean one
(config.yml), each in the embedded profile that `make run` starts (SQLite
tracker store, the handoff event broker, in-process locks; 1 and 20
citizens straight to Rasa) and in the production profile (PostgreSQL, Redis,
2 Rasa instances and 2 action servers behind nginx; 20 citizens through
nginx). Every citizen repeats the status-check conversation below under a new
conversation id each time. Every level is bounded by time and message count;
only 127.0.0.1 is contacted.

Columns: messages per second, p50/p95/p99 latency, the share of status
checks answered (a row whose dialogue went elsewhere does other work per
message), and CPU ms per message —
the CPU time of every server process (from /proc, children included) over the
level divided by the answered messages, and inside Rasa split by component
with py-spy (bench/cpu_profile.py). CPU ms per message do not depend on what
else runs on the machine; msg/s and latencies do. The load generator runs on
the same cores and is not counted.

The DIET model is trained once and kept under models/ by fingerprint
(hotline.nlu.training); the first run on a fresh tree spends ~9-10 minutes of
both cores on it before measuring. The rate limits are raised for the run
(all citizens come from 127.0.0.1); everything else is the profiles' own
configuration.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import cpu_profile  # the sibling script, found as `python bench/load.py` runs it
from hotline.ops.local_servers import LocalServers, rss_mib
from hotline.ops.supervisor import ProdConfig, ProdProfile

CONVERSATION = [
    "привет",
    "какие документы нужны для загранпаспорта",
    "статус заявления 1234567890",
    "Иванов",  # the demo application's applicant (hotline/status/demo)
    "12.03.1985",
    "спасибо",
]
# The demo application's status, answered after the date of birth: a row
# whose dialogue went elsewhere (a weak model) does different work per message.
STATUS_TURN, STATUS_ANSWER = 4, "в обработке"
BENCH_ENV = {"RATE_LIMIT_MESSAGES": "1000000", "MAX_MESSAGE_CHARS": "1000"}
BROKER = {"event_broker": {"type": "handoff.broker.HandoffEventBroker"}}
# Issue 13's targets.
TARGET_PROD_MSGS, TARGET_PROD_P95, TARGET_ONE_P95 = 70.0, 500.0, 100.0
CORES = os.cpu_count() or 2


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
    status_asked = status_answered = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=citizens + 4)
    timeout = aiohttp.ClientTimeout(total=60)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def citizen(n: int) -> None:
            nonlocal errors, sent, status_asked, status_answered
            loop_no = 0
            while time.monotonic() < deadline and sent < max_messages:
                sender = f"bench-{tag}-{n}-{loop_no}"
                loop_no += 1
                for turn, text in enumerate(CONVERSATION):
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
                            if turn == STATUS_TURN:
                                status_asked += 1
                                status_answered += any(STATUS_ANSWER in str(m.get("text") or "").lower()
                                                       for m in body if isinstance(m, dict))
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
        "status_answered": status_answered / status_asked if status_asked else float("nan"),
    }


# --- the two profiles --------------------------------------------------------------

class Embedded:
    """What `make run` starts for a citizen's message: the action server and
    Rasa with the SQLite tracker store, the handoff broker and in-process locks."""

    name = "embedded (make run)"

    def __init__(self, model: Path, env: Dict[str, str]) -> None:
        from hotline.status import init_db
        from hotline.status.demo import load_demo

        self.workdir = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
        database_url = f"sqlite:///{self.workdir / 'status.db'}"
        init_db(database_url)
        load_demo(database_url)
        self.servers = LocalServers(self.workdir, model, extra_env={"DATABASE_URL": database_url, **env},
                                    extra_endpoints=BROKER)
        self.url = f"{self.servers.url}/webhooks/rest/webhook"
        self.warm_urls = [self.url]

    def processes(self) -> Dict[str, List[int]]:
        return {"rasa": [self.servers.rasa.pid], "action server": [self.servers.actions.pid]}

    def rasa_pids(self) -> List[int]:
        return [self.servers.rasa.pid]

    def memory(self) -> Dict[str, float]:
        return {"rasa": rss_mib(self.servers.rasa.pid), "action server": rss_mib(self.servers.actions.pid)}

    def stop(self) -> None:
        self.servers.stop()


class Production:
    """deploy/: PostgreSQL, Redis, Rasa instances and 2 action servers behind nginx."""

    def __init__(self, model: Path, env: Dict[str, str], instances: int) -> None:
        self.name = f"production ({instances} Rasa, nginx)"
        base = Path(tempfile.mkdtemp(prefix="bench-prod-"))
        config = ProdConfig.ephemeral(base, rasa_instances=instances, model=model, extra_env=env)
        config.rest_ip_rate = config.rest_ip_burst = 100000
        self.profile = ProdProfile(config)
        self.profile.start(log=lambda _m: None)
        self.url = f"{self.profile.public_url}/webhooks/rest/webhook"
        self.warm_urls = [f"{self.profile.rasa_url(i)}/webhooks/rest/webhook" for i in range(instances)]

    def _pid(self, name: str) -> Optional[int]:
        proc = self.profile.procs.get(name)
        return proc.pid if proc is not None else None

    def _postgres(self) -> List[int]:
        try:
            return [int((self.profile.pg_dir / "data" / "postmaster.pid").read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            return []

    def processes(self) -> Dict[str, List[int]]:
        procs = self.profile.procs
        return {
            "rasa": self.rasa_pids(),
            "action server": [p.pid for name, p in procs.items() if name.startswith("actions-")],
            "nginx": [pid for pid in [self._pid("nginx")] if pid],
            "postgresql": self._postgres(),
            "redis": [pid for pid in [self._pid("redis")] if pid],
        }

    def rasa_pids(self) -> List[int]:
        # ProdProfile.rasa_pids() lists every live process it started.
        return [pid for name, pid in self.profile.rasa_pids().items() if name.startswith("rasa-")]

    def memory(self) -> Dict[str, float]:
        result = {name: rss_mib(pid) for name, pid in sorted(self.profile.rasa_pids().items())}
        for name in ("nginx", "postgresql"):
            pids = self.processes()[name]
            result[name] = sum(_tree_rss(pid) for pid in pids)
        return result

    def stop(self) -> None:
        self.profile.stop()


def _tree_rss(root: int) -> float:
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        pid = int(status.parent.name)
        if pid == root or re.search(rf"^PPid:\s+{root}$", text, re.M):
            total += rss_mib(pid)
    return total


def warm_up(urls: List[str], conversations: int) -> None:
    import requests

    # First calls build TensorFlow graphs, fill caches and open pools.
    for i, url in enumerate(urls):
        for n in range(conversations):
            for text in CONVERSATION:
                requests.post(url, json={"sender": f"warm-{i}-{n}", "message": text}, timeout=120)


# --- measuring -------------------------------------------------------------------------

@dataclass
class Row:
    pipeline: str
    profile: str
    citizens: int
    result: Dict[str, float]
    cpu: Dict[str, float]  # process → CPU seconds over the level
    rasa_split: Dict[str, float] = field(default_factory=dict)  # component → CPU seconds
    note: str = ""

    def per_message(self, seconds: float) -> float:
        return 1000 * seconds / max(self.result["messages"], 1)


def measure(target, pipeline: str, citizens: int, seconds: float, max_messages: int, profile: bool) -> Row:
    sampler = cpu_profile.Sampler(target.rasa_pids(), seconds + 1) if profile else None
    if sampler:
        sampler.start()
        time.sleep(0.5)  # py-spy attaches
    meter = cpu_profile.ProcessCPU(target.processes())
    meter.start()
    result = asyncio.run(run_level(target.url, citizens, max_messages, seconds, f"{pipeline[:4]}-{citizens}"))
    spent = meter.stop()
    row = Row(pipeline, target.name, citizens, result, spent)
    if sampler:
        samples = sampler.stop()
        if samples is None:
            row.note = sampler.error or ""
        else:
            row.rasa_split = cpu_profile.split(spent["rasa"], samples)
    print(f"   {pipeline:5} {target.name:28} {citizens:>3} citizens: {result['throughput']:6.1f} msg/s  "
          f"p50 {result['p50']:6.0f}  p95 {result['p95']:6.0f}  p99 {result['p99']:6.0f} ms  "
          f"CPU {row.per_message(sum(spent.values())):5.1f} ms/msg  errors {result['errors']}", flush=True)
    return row


def run_profile(make, pipeline: str, levels: List[int], args) -> List[Row]:
    started = time.monotonic()
    target = make()
    rows = []
    try:
        print(f"== {pipeline}, {target.name}: up in {time.monotonic() - started:.0f} s, warming up", flush=True)
        warm_up(target.warm_urls, 1 if args.quick else 2)
        for citizens in levels:
            rows.append(measure(target, pipeline, citizens, args.seconds, args.max_messages, not args.no_profile))
        mem = target.memory()
        print("   resident memory (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in mem.items()), flush=True)
    finally:
        target.stop()
    return rows


# --- report ------------------------------------------------------------------------------

SHORT = {
    "NLU": "NLU",
    "policies": "policies",
    "tracker store: SQL": "store SQL",
    "tracker store: (de)serialisation, masking": "store (de)ser",
    "event broker + handoff hooks": "broker+hooks",
    "action-server HTTP (client side)": "action HTTP",
    "lock store": "locks",
    "responses, other actions": "responses",
    cpu_profile.CHANNEL: "channel+loop",
}
PROCESSES = ["action server", "nginx", "postgresql", "redis"]


def report(rows: List[Row]) -> None:
    print()
    print("Throughput and latency (the load generator shares the machine's cores):")
    print("| pipeline | profile | citizens | messages | errors | msg/s | p50 ms | p95 ms | p99 ms "
          "| CPU ms/msg (all servers) | CPU-bound ceiling, msg/s on %d cores | status answered |" % CORES)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        total = r.per_message(sum(r.cpu.values()))
        ceiling = CORES * 1000 / total if total else float("nan")
        print(f"| {r.pipeline} | {r.profile} | {r.citizens} | {r.result['messages']} | {r.result['errors']} | "
              f"{r.result['throughput']:.1f} | {r.result['p50']:.0f} | {r.result['p95']:.0f} | "
              f"{r.result['p99']:.0f} | {total:.1f} | {ceiling:.0f} | {100 * r.result['status_answered']:.0f} % |")
    print()
    print("CPU ms per message by component (Rasa split by py-spy's busy samples; other processes from /proc):")
    comps = cpu_profile.ORDER
    print("| pipeline | profile | citizens | " + " | ".join(SHORT[c] for c in comps) + " | Rasa | "
          + " | ".join(PROCESSES) + " | total |")
    print("|---|---|---:|" + "---:|" * (len(comps) + len(PROCESSES) + 2))
    for r in rows:
        split = [f"{r.per_message(r.rasa_split[c]):.1f}" if r.rasa_split else "–" for c in comps]
        procs = [f"{r.per_message(r.cpu[p]):.1f}" if p in r.cpu else "–" for p in PROCESSES]
        print(f"| {r.pipeline} | {r.profile} | {r.citizens} | " + " | ".join(split)
              + f" | {r.per_message(r.cpu['rasa']):.1f} | " + " | ".join(procs)
              + f" | {r.per_message(sum(r.cpu.values())):.1f} |")
    notes = sorted({r.note for r in rows if r.note})
    for note in notes:
        print(f"note: {note} ({cpu_profile.ptrace_note()})")
    print()
    print("Targets (issue 13):")
    for r in rows:
        if r.pipeline != "lean":
            continue
        if r.profile.startswith("production") and r.citizens == 20:
            ok = r.result["throughput"] >= TARGET_PROD_MSGS and r.result["p95"] <= TARGET_PROD_P95
            print(f"  production, 20 citizens: {r.result['throughput']:.1f} msg/s at p95 {r.result['p95']:.0f} ms "
                  f"(target ≥ {TARGET_PROD_MSGS:.0f} msg/s at p95 ≤ {TARGET_PROD_P95:.0f} ms): "
                  f"{'met' if ok else 'not met'}; {TARGET_PROD_MSGS:.0f} msg/s on {CORES} cores allow "
                  f"{CORES * 1000 / TARGET_PROD_MSGS:.1f} CPU ms per message, this row spends "
                  f"{r.per_message(sum(r.cpu.values())):.1f}")
        if r.profile.startswith("embedded") and r.citizens == 1:
            ok = r.result["p95"] <= TARGET_ONE_P95
            print(f"  embedded, 1 citizen: p95 {r.result['p95']:.0f} ms (target ≤ {TARGET_ONE_P95:.0f} ms): "
                  f"{'met' if ok else 'not met'}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 s levels, one warm-up conversation")
    parser.add_argument("--seconds", type=float, default=None, help="time cap per level (default 20, quick 8)")
    parser.add_argument("--max-messages", type=int, default=3000, help="message cap per level")
    parser.add_argument("--instances", type=int, default=2, help="Rasa instances of the production profile")
    parser.add_argument("--no-diet", action="store_true", help="skip the DIET rows (no DIET training)")
    parser.add_argument("--diet-model", default=None,
                        help="a DIET model archive to use instead of training configs/diet.yml")
    parser.add_argument("--no-prod", action="store_true", help="skip the production profile")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL:NAME=VALUE,...",
                        help="also the lean rows under these settings, e.g. "
                             "\"Rasa's store save:HOTLINE_FAST_TRACKER_STORE=0\" (repeatable)")
    parser.add_argument("--no-profile", action="store_true", help="no py-spy split")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (8.0 if args.quick else 20.0)

    from hotline.nlu.training import model_path, train

    began = time.monotonic()
    variants = []
    if args.diet_model:
        variants.append(("DIET", Path(args.diet_model), {}))
    elif not args.no_diet:
        diet = model_path("configs/diet.yml")
        if not diet.exists():
            print(f"training the DIET model once ({diet.name}; ~10 min of both cores on a quiet machine) ...",
                  flush=True)
        variants.append(("DIET", train("configs/diet.yml"), {}))
    variants.append(("lean", train(), {}))
    for spec in args.variant:
        label, _, assignments = spec.rpartition(":")
        env = dict(pair.split("=", 1) for pair in assignments.split(",") if pair)
        variants.append((f"lean, {label or assignments}", variants[-1][1], env))
    print(f"models ready in {time.monotonic() - began:.0f} s", flush=True)

    rows: List[Row] = []
    for pipeline, model, extra in variants:
        env = {**BENCH_ENV, **extra}
        rows += run_profile(lambda: Embedded(model, env), pipeline, [1, 20], args)
        if not args.no_prod:
            rows += run_profile(lambda: Production(model, env, args.instances), pipeline, [20], args)
    report(rows)
    print(f"\nwhole run: {time.monotonic() - began:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
