"""Time and memory of the workbench inbox's query on a large tracker store.

    .venv/bin/python bench/inbox_query.py [--copies 2000] [--days 90] [--url sqlite:////tmp/x.db]

The seeded conversations of fakes/tracker_seed.py (14 conversations, 14
misunderstood turns; written once through Rasa's store) are copied `copies`
times under new conversation ids, spread over `days` days, straight into the
events table. Then the inbox of the last 7 days and of everything is built
(query, masking, grouping), without and with the timestamp index. Prints
rows, items, groups, seconds and the peak of Python allocations.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from fakes.tracker_seed import seed_tracker
from workbench import inbox


def build(url: str, copies: int, days: int) -> int:
    template_url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'template.db'}"
    seed_tracker(template_url)
    template = create_engine(template_url, future=True)
    with template.connect() as conn:
        rows = conn.execute(text("SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                                 "FROM events ORDER BY id")).all()
    first = min(r.timestamp for r in rows)
    now = time.time()
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) "
                          "NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                          "action_name VARCHAR(255), data TEXT)"))
        conn.execute(text("CREATE INDEX IF NOT EXISTS ix_events_sender_id ON events (sender_id)"))
    rng = random.Random(42)
    batch = []
    total = 0
    # Copies in time order, so ids grow with time as on a live server.
    offsets = sorted(rng.uniform(0, days * 86400) for _ in range(copies))
    for k, offset in enumerate(offsets):
        shift = now - days * 86400 + offset - first
        for r in rows:
            prefix, rest = r.sender_id.split("_", 1)
            data = json.loads(r.data)
            data["timestamp"] = r.timestamp + shift
            batch.append({"s": f"{prefix}_{k}x{rest}", "t": r.type_name, "ts": r.timestamp + shift,
                          "i": r.intent_name, "a": r.action_name, "d": json.dumps(data)})
        if len(batch) > 20000:
            total += _insert(engine, batch)
    total += _insert(engine, batch)
    return total


def _insert(engine, batch: list) -> int:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                          "VALUES (:s, :t, :ts, :i, :a, :d)"), batch)
    n = len(batch)
    batch.clear()
    return n


def measure(engine, filters: inbox.Filters) -> tuple:
    tracemalloc.start()
    started = time.perf_counter()
    items = list(inbox.misunderstood(engine, filters))
    groups = inbox.group_items(items)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return len(items), len(groups), seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'tracker.db'}"
    started = time.perf_counter()
    build(url, args.copies, args.days)
    engine = create_engine(url, future=True)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(inbox.events_table)).scalar_one()
        senders = conn.execute(select(func.count(func.distinct(inbox.events_table.c.sender_id)))).scalar_one()
    print(f"events: {rows}, conversations: {senders} (built in {time.perf_counter() - started:.1f} s)")
    week = inbox.Filters(since=dt.datetime.utcnow() - dt.timedelta(days=7))
    print("| index | range | items | groups | seconds | peak MiB |")
    print("|---|---|---|---|---|---|")
    for indexed in (False, True):
        if indexed:
            inbox.ensure_timestamp_index(engine)
        for label, filters in (("7 days", week), ("all", inbox.Filters())):
            items, groups, seconds, peak = measure(engine, filters)
            print(f"| {'yes' if indexed else 'no'} | {label} | {items} | {groups} | {seconds:.2f} | "
                  f"{peak / 2**20:.1f} |")


if __name__ == "__main__":
    main()
