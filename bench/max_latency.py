"""MAX channel latency: from an update reaching the bot to the reply reaching
the Bot API (python bench/max_latency.py [count] [--model path]; make bench-max).

The same measurement as bench/telegram_latency.py, with its helpers and the
REST bench's conversation: the fake MAX Bot API (fakes/max.py), the
real servers with the MAX channel and the long-polling process; `count`
messages (50 by default) each way, interleaved:

  * webhook: t0 when the update is POSTed to Rasa's webhook (as MAX does),
    t1 when the first POST /messages of the answer arrives at the API;
  * polling: t0 when the update is queued for GET /updates, t1 as above
    (includes the long poll and the poller's forward to the webhook);
  * REST: the round trip of the same message over Rasa's REST webhook.

Added latency = MAX minus REST for the same message (paired p50 and p95).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

from connectors.max.channel import sender_id_for
from fakes.max import TOKEN, FakeMax, text_update
from hotline.nlu.training import train
from hotline.ops.local_servers import LocalServers
from telegram_latency import (poller_vs_webhook, run_from_command_line, user_count,  # the sibling script
                              wait_turn_over)

SECRET = "bench-max-secret"


def max_turn(servers: LocalServers, fake: FakeMax, user: int, text: str, send: Callable[[dict], object]) -> float:
    sender = sender_id_for(user)
    before = user_count(servers, sender)
    mark = fake.mark()
    started = time.perf_counter()
    send(text_update(user, text))
    first = fake.wait_for("POST", "/messages", user_id=user, since=mark, timeout=60)[0]
    wait_turn_over(servers, sender, before)  # the next message starts on a quiet server
    return (first.at - started) * 1000


def main(count: int = 50, model: Optional[Path] = None) -> int:
    model = model or train()
    with tempfile.TemporaryDirectory() as tmp, FakeMax() as fake:
        workdir = Path(tmp)
        credentials = workdir / "credentials.yml"
        credentials.write_text("rest:\nconnectors.max.channel.MaxInput:\n", encoding="utf-8")
        env = {"MAX_TOKEN": TOKEN, "MAX_API_URL": fake.base_url, "MAX_WEBHOOK_SECRET": SECRET,
               "DATABASE_URL": f"sqlite:///{workdir / 'hotline.db'}"}
        servers = LocalServers(workdir, model, extra_env=env, credentials=credentials)
        webhook_url = f"{servers.url}/webhooks/max/webhook"

        def by_webhook(update: dict) -> int:
            return fake.deliver(update, secret=SECRET, url=webhook_url)

        # (queued updates wait for the poller: the warm-up round covers its start)
        poller_vs_webhook(servers, workdir, "connectors.max.polling",
                          {**env, "MAX_FORWARD_URL": webhook_url, "MAX_MARKER_FILE": str(workdir / "marker")},
                          count, "MAX", "first POST /messages at the Bot API",
                          lambda user, text, send: max_turn(servers, fake, user, text, send),
                          by_webhook, fake.push_update, 81_000_000)
    return 0


if __name__ == "__main__":
    run_from_command_line("MAX", main)
