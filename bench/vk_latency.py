"""VK channel latency: from an incoming event to the reply reaching VK's API.

Starts the local fake VK (fakes/vk.py) and `rasa run` with the
VK channel (plus the action server), sends 50 sequential citizen messages and
prints p50/p95 of the time from the event's arrival to the first and to the
last messages.send of the reply reaching the fake — for the Callback API
(event POSTed to /webhooks/vk/webhook) and for Bots Long Poll (event queued
on the fake's long-poll server, which the waiting a_check request returns at
once). Each message is also sent over the REST webhook, interleaved, as the
reference for what Rasa itself takes; the per-message difference is the
latency the VK path adds.

    .venv/bin/python bench/vk_latency.py [--count 50] [--mode callback|longpoll|both]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import yaml

from fakes.vk import FakeVK
from hotline.nlu.training import model_path
from hotline.ops.local_servers import LocalServers
from rest_latency import MESSAGES as REST_MESSAGES  # the sibling script

TOKEN, SECRET, CONFIRMATION, GROUP_ID = "vk1.a.bench-token", "bench-secret", "bench-conf", 218_000_002

# The REST bench's conversation with a request for an operator in place of the status check.
MESSAGES = [text for text in REST_MESSAGES if not text.startswith("что с моей заявкой")] + ["соедините с оператором"]


def percentiles(values: List[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"p50 {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms   max {values[-1]:7.1f} ms"


def start(fake: FakeVK, workdir: Path, mode: str) -> LocalServers:
    workdir.mkdir(parents=True, exist_ok=True)
    credentials = workdir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"rest": None, "connectors.vk.channel.VKInput": None}))
    env = {"VK_TOKEN": TOKEN, "VK_GROUP_ID": str(GROUP_ID), "VK_CONFIRMATION": CONFIRMATION,
           "VK_SECRET": SECRET, "VK_API_URL": fake.api_url, "VK_MODE": mode}
    return LocalServers(workdir, model_path(), extra_env=env, credentials=credentials)


def turn_done(servers: LocalServers, sender: str, turns: int, timeout: float = 60) -> int:
    """Waits until the tracker holds `turns` answered user messages; returns
    the number of bot messages of the last turn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = servers.tracker(sender)["events"]
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        if len(users) >= turns and events[-1]["event"] == "action" and events[-1]["name"] == "action_listen":
            return sum(1 for e in events[users[-1]:] if e["event"] == "bot")
        time.sleep(0.05)
    raise TimeoutError(sender)


def run(fake: FakeVK, servers: LocalServers, count: int, deliver: Callable[[Dict], None],
        label: str, peer_base: int) -> None:
    """Each message goes once over REST and once over VK (interleaved, so
    both see the same load); the difference is what the VK path adds."""
    warm = peer_base - 1
    deliver(fake.message_new(warm, "привет"))
    fake.wait_for_sent(warm, 1)
    servers.send(f"rest-warmup-{peer_base}", "привет")
    first, last, rest, added = [], [], [], []
    for i in range(count):
        text = MESSAGES[i % len(MESSAGES)]
        peer = peer_base + i // len(MESSAGES)
        started = time.perf_counter()
        servers.send(f"rest-{peer}", text)
        rest.append((time.perf_counter() - started) * 1000)

        before = len(fake.sent_to(peer))
        event = fake.message_new(peer, text)
        started = time.perf_counter()
        deliver(event)
        replies = turn_done(servers, f"vk_{peer}", i % len(MESSAGES) + 1)
        sent = fake.wait_for_sent(peer, before + replies)[before:]
        first.append((sent[0].at - started) * 1000)
        last.append((sent[-1].at - started) * 1000)
        added.append(first[-1] - rest[-1])
    print(f"VK {label}: {count} sequential messages, event → messages.send reaching the fake")
    print(f"  first message of the reply       {percentiles(first)}")
    print(f"  whole reply                      {percentiles(last)}")
    print(f"  REST round trip, same messages   {percentiles(rest)}")
    print(f"  added by the VK path (VK − REST, per message): p50 {statistics.median(added):+.1f} ms   "
          f"p95 {sorted(added)[min(len(added) - 1, round(0.95 * (len(added) - 1)))]:+.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--mode", choices=["callback", "longpoll", "both"], default="both")
    args = parser.parse_args()
    if not model_path().exists():
        print(f"no trained model at {model_path()}: run `make train` first", file=sys.stderr)
        return 2
    with FakeVK(TOKEN, GROUP_ID) as fake, tempfile.TemporaryDirectory() as tmp:
        if args.mode in ("callback", "both"):
            servers = start(fake, Path(tmp) / "callback", "callback")
            try:
                url = f"{servers.url}/webhooks/vk/webhook"

                def post(event: Dict) -> None:
                    reply = fake.post_callback(url, event, SECRET)
                    assert reply.text == "ok", reply.status_code

                run(fake, servers, args.count, post, "Callback API", 700_000)
            finally:
                servers.stop()
        if args.mode in ("longpoll", "both"):
            servers = start(fake, Path(tmp) / "longpoll", "longpoll")
            try:
                fake.wait_for_calls("a_check", 1)
                run(fake, servers, args.count, fake.push_event, "Bots Long Poll", 800_000)
            finally:
                servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
