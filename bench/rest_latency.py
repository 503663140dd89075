"""REST latency and memory of the running assistant (make bench-rest).

Starts the action server and `rasa run` on free ports, sends 200 sequential
messages over the REST webhook and prints p50/p95 latency and the resident
memory of both servers.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from hotline.ops.local_servers import LocalServers, rss_mib
from hotline.nlu.training import train

MESSAGES = [
    "здравствуйте",
    "какие документы нужны для загранпаспорта",
    "по какому номеру звонить",
    "не приходит смс с кодом",
    "сайт выдаёт ошибку при загрузке файла",
    "что с моей заявкой 1234567890",
    "как записаться в мфц",
    "мне позвонили и просят код из смс",
    "спасибо",
    "до свидания",
]


def main(count: int = 200) -> int:
    model = train()
    with tempfile.TemporaryDirectory() as tmp:
        servers = LocalServers(Path(tmp), model)
        try:
            servers.send("bench-warmup", "привет")
            latencies = []
            for i in range(count):
                started = time.perf_counter()
                servers.send(f"bench-{i // 10}", MESSAGES[i % len(MESSAGES)])
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            print(f"REST round trips: {count} sequential messages")
            print(f"  p50 {statistics.median(latencies):.1f} ms   p95 {latencies[int(0.95 * (count - 1))]:.1f} ms"
                  f"   max {latencies[-1]:.1f} ms")
            print(f"  resident memory: rasa {rss_mib(servers.rasa.pid):.0f} MiB, "
                  f"action server {rss_mib(servers.actions.pid):.0f} MiB")
        finally:
            servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
