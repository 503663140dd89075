"""Import speed of the application-status store.

Generates N applications (100,000 by default) into a temporary CSV and
imports it three times: into an empty store, again unchanged, and again with
every tenth status changed. Always into a temporary SQLite file; also into
PostgreSQL when --database-url is given (it is migrated, and the generated
rows stay in it, so use a scratch database).

    .venv/bin/python bench/import_speed.py [--rows N] [--database-url URL]
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

from hotline.db.engine import dispose_engine, init_db
from hotline.status.importer import HEADER, import_csv
from hotline.db.tables.status import STATUSES
from hotline.services import SERVICE_NAMES

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков"]
NAMES = ["Иван", "Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Павел", "Олег"]
PATRONYMICS = ["Иванович", "Петрович", "Сергеевич", "Андреевич", "Олегович", "Викторович"]


def generate(path: Path, rows: int, changed_every: int = 0, seed: int = 7) -> None:
    rng = random.Random(seed)
    services = sorted(SERVICE_NAMES)
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(rows):
            number = f"{i:010d}" if i % 2 else f"BN-{i:09d}"
            status = STATUSES[i % len(STATUSES)]
            if changed_every and i % changed_every == 0:
                status = STATUSES[(i + 1) % len(STATUSES)]
            docs = "Паспорт;СНИЛС" if status == "needs_documents" else ""
            out.writerow([
                number,
                f"{rng.choice(SURNAMES)} {rng.choice(NAMES)} {rng.choice(PATRONYMICS)}",
                f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                services[i % len(services)], status,
                f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
                f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if i % 5 else "",
                docs,
                "Загрузите недостающие документы в личном кабинете." if docs else "",
            ])


def run(url: str, first: Path, changed: Path, rows: int) -> None:
    init_db(url)
    for label, path in (("first import", first), ("re-import, unchanged", first),
                        ("re-import, 10% statuses changed", changed)):
        started = time.perf_counter()
        report = import_csv(path, url)
        seconds = time.perf_counter() - started
        print(f"  {label:34s} {seconds:7.2f} s  {rows / seconds:10,.0f} rows/s   {report.summary()}")
    dispose_engine(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="also benchmark this (PostgreSQL) database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        first, changed = Path(tmp) / "first.csv", Path(tmp) / "changed.csv"
        generate(first, args.rows)
        generate(changed, args.rows, changed_every=10)
        print(f"SQLite ({args.rows:,} rows):")
        run(f"sqlite:///{tmp}/bench.db", first, changed, args.rows)
        if args.database_url:
            print(f"{args.database_url.split('://')[0]} ({args.rows:,} rows):")
            run(args.database_url, first, changed, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
