"""How many waiting tickets and concurrent operator sessions the console holds.

Starts `python -m handoff.console` as its own process on a SQLite database
with W waiting tickets, signs in S operators (each a session with its own
cookie and CSRF token) and for D seconds makes every one of them behave
like an open console page: the queue every 2 s, the open ticket's new
messages every 1 s; a tenth of them take a ticket and write to the citizen
every 5 s (delivered through a stand-in of the Rasa server), while citizens'
messages keep arriving. Prints latencies, errors and the console's memory.

    .venv/bin/python bench/handoff_load.py [--tickets 5000] [--sessions 200] [--seconds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import aiohttp

from hotline.paths import ROOT

PASSWORD = "bench-password-123"
SECRET = "bench-handoff-secret"


def seed(db_url: str, tickets: int, sessions: int) -> None:
    from sqlalchemy import insert

    from hotline.db.engine import init_db, session_scope
    from handoff import auth
    from handoff import repository as repo
    from hotline.db.tables.handoff import tickets as tickets_table

    init_db(db_url)
    password_hash = auth.hash_password(PASSWORD)  # one hash for all: seeding is not what we measure
    for i in range(sessions):
        repo.create_operator(f"op{i:04d}", f"Оператор {i}", password_hash, url=db_url)
    now = repo.utcnow()
    rows = [{"conversation_id": f"load-{i}", "channel": "rest", "status": "waiting", "reason": "request",
             "topic": "ask_service_info", "summary": f"Вопрос гражданина №{i} о документах для загранпаспорта",
             "offline": False, "created_at": now, "resume_pending": False, "tg_closed": False}
            for i in range(tickets)]
    with session_scope(db_url) as s:
        for start in range(0, len(rows), 1000):
            s.execute(insert(tickets_table), rows[start:start + 1000])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: List[float], q: float) -> float:
    from handoff.wait import percentile

    value = percentile(values, q)
    return round(value, 1) if value is not None else float("nan")


async def run_load(base: str, sessions: int, seconds: float, db_url: str) -> Dict:
    stats: Dict[str, List[float]] = {"login": [], "queue": [], "messages": [], "reply": [], "take": []}
    errors: Dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    clients: List[Dict] = []

    async def login(i: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            session = aiohttp.ClientSession(connector=connector, connector_owner=False,
                                            cookie_jar=aiohttp.CookieJar(unsafe=True))
            started = time.perf_counter()
            async with session.post(f"{base}/api/login", json={"login": f"op{i:04d}", "password": PASSWORD}) as r:
                body = await r.json()
            stats["login"].append((time.perf_counter() - started) * 1000)
            if r.status != 200:
                errors["login"] = errors.get("login", 0) + 1
                await session.close()
                return
            clients.append({"http": session, "csrf": body["csrf_token"], "ticket": 1 + i, "seen": 0})

    gate = asyncio.Semaphore(8)
    started = time.perf_counter()
    await asyncio.gather(*(login(i, gate) for i in range(sessions)))
    login_seconds = time.perf_counter() - started
    stop_at = time.monotonic() + seconds

    async def timed(kind: str, method: str, client: Dict, path: str, body=None, track=None) -> None:
        started = time.perf_counter()
        try:
            async with client["http"].request(method, f"{base}{path}", json=body,
                                              headers={"X-CSRF-Token": client["csrf"]}) as r:
                data = await r.read()
                ok = r.status < 400
                if ok and track is not None:
                    # Like the page: ask only for what came after the last message seen.
                    found = json.loads(data).get("messages") or []
                    track["seen"] = max([track["seen"]] + [m["id"] for m in found])
        except aiohttp.ClientError:
            ok = False
        stats[kind].append((time.perf_counter() - started) * 1000)
        if not ok:
            errors[kind] = errors.get(kind, 0) + 1

    async def page(client: Dict, writer: bool) -> None:
        await asyncio.sleep(random.random() * 2)
        if writer:
            await timed("take", "POST", client, f"/api/tickets/{client['ticket']}/take", {})
        next_queue = next_reply = time.monotonic()
        while time.monotonic() < stop_at:
            now = time.monotonic()
            if now >= next_queue:
                next_queue = now + 2
                await timed("queue", "GET", client, "/api/queue")
            await timed("messages", "GET", client, f"/api/tickets/{client['ticket']}/messages?after={client['seen']}",
                        track=client)
            if writer and time.monotonic() >= next_reply:
                next_reply = time.monotonic() + 5
                await timed("reply", "POST", client, f"/api/tickets/{client['ticket']}/messages",
                            {"text": "Проверьте, пожалуйста, раздел «Заявления»."})
            await asyncio.sleep(max(0.0, 1 - (time.monotonic() - now)))

    async def citizens() -> None:
        from handoff import repository as repo

        i = 0
        while time.monotonic() < stop_at:
            ticket = 1 + (i % max(1, len(clients)))
            await asyncio.to_thread(repo.add_message, ticket, "citizen", f"сообщение гражданина {i}", "broker",
                                    delivered=True, url=db_url)
            i += 1
            await asyncio.sleep(0.2)

    await asyncio.gather(citizens(), *(page(c, i % 10 == 0) for i, c in enumerate(clients)))
    for client in clients:
        await client["http"].close()
    await connector.close()
    summary = {kind: {"n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95)} for kind, v in stats.items()}
    return {"sessions_signed_in": len(clients), "login_seconds_total": round(login_seconds, 1),
            "requests": summary, "errors": errors,
            "requests_per_second": round(sum(len(stats[k]) for k in ("queue", "messages", "reply"))
                                         / seconds, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()

    from fakes.app_thread import AppThread
    from fakes.rasa import FakeRasa
    from hotline.ops.ports import free_port

    workdir = Path(tempfile.mkdtemp(prefix="handoff-load-"))
    db_url = f"sqlite:///{workdir / 'store.db'}"
    seed(db_url, args.tickets, args.sessions)
    fake = FakeRasa(SECRET)
    rasa = AppThread(fake.app)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "HANDOFF_HOURS": "24/7", "HANDOFF_SECRET": SECRET,
           "HANDOFF_RASA_URL": rasa.url, "HANDOFF_CONSOLE_PORT": str(port), "HANDOFF_SECURE_COOKIES": "0"}
    log = open(workdir / "console.log", "w")
    console = subprocess.Popen([sys.executable, "-m", "handoff.console"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                import requests

                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except Exception:
                pass
            if time.monotonic() > deadline or console.poll() is not None:
                raise RuntimeError("the console did not start; see " + str(workdir / "console.log"))
            time.sleep(0.2)
        idle_rss = rss_mib(console.pid)
        result = asyncio.run(run_load(base, args.sessions, args.seconds, db_url))
        result.update(waiting_tickets=args.tickets, console_rss_mib_idle=round(idle_rss, 1),
                      console_rss_mib_loaded=round(rss_mib(console.pid), 1), seconds=args.seconds,
                      deliveries_to_rasa_stand_in=len(fake.deliveries))
    finally:
        console.terminate()
        console.wait(20)
        rasa.stop()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    q, m = result["requests"]["queue"], result["requests"]["messages"]
    print(f"\n{result['sessions_signed_in']} сессий операторов, {args.tickets} ожидающих обращений: "
          f"очередь p50 {q['p50_ms']} мс / p95 {q['p95_ms']} мс, сообщения p50 {m['p50_ms']} / p95 {m['p95_ms']} мс, "
          f"{result['requests_per_second']} запросов/с, ошибок: {sum(result['errors'].values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
