"""What citizens notice when one of two Rasa instances is killed.

    .venv/bin/python bench/failover.py [--citizens 16] [--messages 20] [--kill-after 0.3]

Starts the production profile with two Rasa instances (PostgreSQL, Redis,
nginx, two action servers) on free loopback ports in a throw-away directory,
warms both instances up, then lets N citizens talk over the public REST
webhook through nginx, each sending M messages one after another (the
five-turn conversation of bench/load.py, repeated). When the given share of
all messages has been answered, rasa-1 is killed with SIGKILL (a crash, not
a shutdown) and is not restarted during the run. Printed: messages that
failed at the client (non-200 or no answer), latency p50/p95/p99/max of the
answered ones, and the same split before and after the kill.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from hotline.ops.supervisor import ProdConfig, ProdProfile
from load import BENCH_ENV, CONVERSATION, percentile, warm_up  # the sibling script


async def talk(profile: ProdProfile, citizens: int, messages: int, kill_after: float) -> Dict[str, List]:
    import aiohttp

    url = f"{profile.public_url}/webhooks/rest/webhook"
    total = citizens * messages
    answered: List[tuple] = []  # (finished at, latency s, after the kill)
    failed: List[tuple] = []
    killed_at: List[float] = []

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=citizens + 4),
                                     timeout=aiohttp.ClientTimeout(total=120)) as session:
        async def citizen(n: int) -> None:
            for i in range(messages):
                sender = f"failover-{n}-{i // len(CONVERSATION)}"
                text = CONVERSATION[i % len(CONVERSATION)]
                started = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": sender, "message": text}) as reply:
                        body = await reply.json(content_type=None)
                        ok = reply.status == 200 and bool(body)
                except Exception:  # noqa: BLE001 — counted
                    ok = False
                done = time.perf_counter()
                after = bool(killed_at) and started >= killed_at[0]
                (answered if ok else failed).append((done, done - started, after))
                if not killed_at and len(answered) + len(failed) >= kill_after * total:
                    killed_at.append(time.perf_counter())
                    await asyncio.to_thread(profile.kill_rasa, 0)
                    print(f"   rasa-1 killed after {len(answered) + len(failed)} of {total} messages", flush=True)

        await asyncio.gather(*(citizen(n) for n in range(citizens)))
    return {"answered": answered, "failed": failed, "killed_at": killed_at}


def summary(label: str, latencies: List[float], failed: int) -> str:
    ms = [x * 1000 for x in latencies]
    if not ms:
        return f"| {label} | 0 | {failed} | — | — | — | — |"
    return (f"| {label} | {len(ms)} | {failed} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | "
            f"{percentile(ms, 99):.0f} | {max(ms):.0f} |")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=16)
    parser.add_argument("--messages", type=int, default=20, help="messages per citizen")
    parser.add_argument("--kill-after", type=float, default=0.3, help="share of messages answered before the kill")
    parser.add_argument("--model", default=None, help="a trained model (default: train if needed)")
    args = parser.parse_args(argv)

    from hotline.nlu.training import train

    model = Path(args.model) if args.model else train()
    base = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    config = ProdConfig.ephemeral(base, rasa_instances=2, model=model, extra_env=BENCH_ENV)
    config.rest_ip_rate = config.rest_ip_burst = 100000
    profile = ProdProfile(config)
    print("== starting the production profile with 2 Rasa instances ...", flush=True)
    profile.start(log=lambda _m: None)
    try:
        warm_up(profile)
        print(f"== {args.citizens} citizens × {args.messages} messages over REST through nginx", flush=True)
        result = asyncio.run(talk(profile, args.citizens, args.messages, args.kill_after))
    finally:
        profile.stop()
    answered, failed = result["answered"], result["failed"]
    total = len(answered) + len(failed)
    print()
    print(f"SIGKILL of one of two Rasa instances: {len(failed)} of {total} messages failed at the client")
    print()
    print("| messages | answered | failed | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(summary("all", [a[1] for a in answered], len(failed)))
    print(summary("sent before the kill", [a[1] for a in answered if not a[2]], sum(1 for f in failed if not f[2])))
    print(summary("sent after the kill", [a[1] for a in answered if a[2]], sum(1 for f in failed if f[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
