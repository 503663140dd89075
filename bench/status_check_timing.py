"""Does the answer time of a failed status check tell which part was wrong?

Times verify_on (the identity comparison the lockout wraps) for an unknown
number, a wrong surname, a wrong date and a correct check, on a temporary
SQLite store with N applications (and PostgreSQL with --database-url, a
scratch database: rows stay). Prints the median and p90 per case in
microseconds; the three failure kinds should be within noise of each other.

    .venv/bin/python bench/status_check_timing.py [--rows N] [--rounds R] [--database-url URL]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time

from hotline.db.engine import dispose_engine, get_engine, init_db, write_transaction
from hotline.status.repository import ApplicationRecord, upsert_applications, verify_on

BORN = dt.date(1980, 1, 1)
SURNAMES = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Римская-Корсакова"]


def fill(url: str, rows: int) -> None:
    records = [ApplicationRecord(
        number=f"{1000000000 + i}", full_name=f"{SURNAMES[i % len(SURNAMES)]} Анна Сергеевна",
        birth_date=BORN + dt.timedelta(days=i % 9000), service="snils", status="in_progress",
        submitted_at=dt.date(2026, 11, 1), expected_at=None, missing_documents=(), instructions=None,
        service_id="snils") for i in range(rows)]
    for start in range(0, rows, 5000):
        with write_transaction(url) as conn:
            upsert_applications(conn, records[start:start + 5000], source="bench")


def run(url: str, rows: int, rounds: int) -> None:
    init_db(url)
    fill(url, rows)
    target = rows // 2
    number, name, born = f"{1000000000 + target}", SURNAMES[target % len(SURNAMES)] + "ой", \
        BORN + dt.timedelta(days=target % 9000)
    cases = {
        "unknown number": (f"{1000000000 + rows + 7}", born, name),
        "wrong surname": (number, born, "Сидоровой"),
        "wrong date": (number, born + dt.timedelta(days=1), name),
        "all correct": (number, born, name),
    }
    engine = get_engine(url)
    times: dict[str, list[float]] = {case: [] for case in cases}
    with engine.connect() as conn:
        for _ in range(rounds):
            for case, args in cases.items():  # interleaved: drift hits every case alike
                started = time.perf_counter()
                verify_on(conn, *args)
                times[case].append((time.perf_counter() - started) * 1e6)
    print(f"{engine.dialect.name}, {rows} applications, {rounds} rounds (µs):")
    for case, values in times.items():
        values.sort()
        print(f"  {case:15s} median {statistics.median(values):8.0f}   p90 {values[int(len(values) * 0.9)]:8.0f}")
    dispose_engine(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", args.rows, args.rounds)
    if args.database_url:
        run(args.database_url, args.rows, args.rounds)


if __name__ == "__main__":
    main()
