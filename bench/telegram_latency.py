"""Telegram channel latency: from an update reaching the bot to the reply
reaching the Bot API (python bench/telegram_latency.py [count] [--model path]).

Starts the fake Bot API (fakes/telegram.py), the real servers
with the Telegram channel and the long-polling process, then sends `count`
messages (50 by default) each way, interleaved so that a busy machine slows
all three alike:

  * webhook: t0 when the update is POSTed to Rasa's webhook (as Telegram
    does), t1 when the first sendMessage of the answer arrives at the API;
  * polling: t0 when the update is queued for getUpdates, t1 as above
    (includes getUpdates and the poller's forward to the webhook);
  * REST: the round trip of the same message over Rasa's REST webhook.

Added latency = Telegram minus REST for the same message (median and p95 of
the paired differences). It can be negative: the Telegram answer is sent as
soon as Rasa utters it, while REST answers after the whole turn is saved.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from connectors.telegram.channel import sender_id_for
from fakes.telegram import TOKEN, FakeTelegramAPI, text_update
from hotline.nlu.training import train
from hotline.ops.local_servers import LocalServers
from hotline.paths import ROOT
from rest_latency import MESSAGES  # the same conversation as the REST bench

SECRET = "bench-secret"


def p95(values: List[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def figures(values: List[float]) -> str:
    return f"p50 {statistics.median(values):7.1f} ms   p95 {p95(values):7.1f} ms   max {max(values):7.1f} ms"


def user_count(servers: LocalServers, sender: str) -> int:
    state = servers.tracker(sender)
    return sum(e["event"] == "user" for e in state["events"])


def wait_turn_over(servers: LocalServers, sender: str, users_before: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = servers.tracker(sender)
        users = sum(e["event"] == "user" for e in state["events"])
        if users > users_before and state.get("latest_action_name") == "action_listen":
            return
        time.sleep(0.02)
    raise TimeoutError(sender)


def telegram_turn(servers: LocalServers, fake: FakeTelegramAPI, chat: int, text: str,
                  send: Callable[[dict], object]) -> float:
    sender = sender_id_for(chat)
    before = user_count(servers, sender)
    mark = fake.mark()
    started = time.perf_counter()
    send(text_update(chat, text))
    first = fake.wait_for("sendMessage", chat_id=chat, since=mark, timeout=60)[0]
    wait_turn_over(servers, sender, before)  # the next message starts on a quiet server
    return (first.at - started) * 1000


def compare(servers: LocalServers, count: int, channel: str, arrival: str,
            webhook_turn: Callable[[int, str], float], polling_turn: Callable[[int, str], float]) -> None:
    """Webhook, REST and polling turns of the same messages, interleaved so
    that a busy machine slows all three alike; prints the figures."""
    webhook: List[float] = []
    polling: List[float] = []
    rest: List[float] = []
    for i in range(-len(MESSAGES), count):  # the first round warms up
        text, conversation = MESSAGES[i % len(MESSAGES)], i // len(MESSAGES)
        took_webhook = webhook_turn(conversation, text)
        started = time.perf_counter()
        servers.send(f"bench-rest-{conversation}", text)
        took_rest = (time.perf_counter() - started) * 1000
        took_polling = polling_turn(conversation, text)
        if i >= 0:
            webhook.append(took_webhook)
            rest.append(took_rest)
            polling.append(took_polling)

    print(f"{channel} channel latency: {count} messages each way, interleaved (update in -> {arrival})")
    print(f"  webhook   {figures(webhook)}")
    print(f"  polling   {figures(polling)}")
    print(f"  REST      {figures(rest)}   (round trip of the same messages)")
    for name, values in (("webhook", webhook), ("polling", polling)):
        added = [t - r for t, r in zip(values, rest)]
        print(f"  added by the {name:7s} channel (paired, minus REST): "
              f"p50 {statistics.median(added):+7.1f} ms   p95 {p95(added):+7.1f} ms")


def poller_vs_webhook(servers: LocalServers, workdir: Path, poller: str, poller_env: Dict[str, str],
                      count: int, channel: str, arrival: str, turn: Callable[[int, str, Callable[[dict], object]], float],
                      by_webhook: Callable[[dict], object], by_polling: Callable[[dict], object], user_base: int,
                      poller_ready: Callable[[], object] = lambda: None) -> None:
    """Starts the channel's long-polling process (`python -m poller`, which
    forwards to the webhook), compares the webhook and polling paths with REST
    (users from `user_base` + 100,000 and + 200,000), then stops the poller
    and the servers."""
    process = subprocess.Popen(
        [sys.executable, "-m", poller, "--timeout", "25"], cwd=ROOT, env={**os.environ, **poller_env},
        stdout=open(workdir / "poller.log", "w"), stderr=subprocess.STDOUT)
    try:
        poller_ready()
        compare(servers, count, channel, arrival,
                lambda conversation, text: turn(user_base + 100_000 + conversation, text, by_webhook),
                lambda conversation, text: turn(user_base + 200_000 + conversation, text, by_polling))
    finally:
        process.terminate()
        process.wait(15)
        servers.stop()


def run_from_command_line(channel: str, main: Callable[[int, Optional[Path]], int]) -> None:
    parser = argparse.ArgumentParser(description=f"{channel} channel latency (p50/p95).")
    parser.add_argument("count", nargs="?", type=int, default=50)
    parser.add_argument("--model", type=Path, help="a trained model (default: train if needed)")
    arguments = parser.parse_args()
    sys.exit(main(arguments.count, arguments.model))


def main(count: int = 50, model: Optional[Path] = None) -> int:
    model = model or train()
    with tempfile.TemporaryDirectory() as tmp, FakeTelegramAPI() as fake:
        workdir = Path(tmp)
        credentials = workdir / "credentials.yml"
        credentials.write_text("rest:\nconnectors.telegram.channel.TelegramInput:\n", encoding="utf-8")
        env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url, "TELEGRAM_WEBHOOK_SECRET": SECRET}
        servers = LocalServers(workdir, model, extra_env=env, credentials=credentials)
        webhook_url = f"{servers.url}/webhooks/telegram/webhook"

        def by_webhook(update: dict) -> int:
            return fake.deliver(update, secret=SECRET, url=webhook_url)

        poller_vs_webhook(servers, workdir, "connectors.telegram.polling", {**env, "TELEGRAM_FORWARD_URL": webhook_url},
                          count, "Telegram", "first sendMessage at the Bot API",
                          lambda chat, text, send: telegram_turn(servers, fake, chat, text, send),
                          by_webhook, fake.push_update, 9_000_000,
                          poller_ready=lambda: fake.wait_for("getUpdates", timeout=30))
    return 0


if __name__ == "__main__":
    run_from_command_line("Telegram", main)
