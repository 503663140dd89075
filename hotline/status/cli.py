"""Command line of the status store: `python -m hotline.status --help`.

Exit codes: 0 success, 1 some rows rejected, 2 nothing done (unusable file,
database unavailable).
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from sqlalchemy.engine import make_url

from hotline.db.engine import StoreUnavailable, database_url, init_db
from hotline.status.demo import load_demo
from hotline.status.importer import CsvFormatError, import_csv


def _where(url: Optional[str]) -> str:
    return make_url(database_url(url)).render_as_string(hide_password=True)


def _print_report(report) -> None:
    print(report.summary())
    for note in report.notes.values():
        print(note)
    for error in report.errors:
        print(error, file=sys.stderr)


def _init(args) -> int:
    init_db(args.database_url)
    print(f"схема базы обновлена (schema is up to date): {_where(args.database_url)}")
    return 0


def _import(args) -> int:
    init_db(args.database_url)
    report = import_csv(args.file, args.database_url)
    _print_report(report)
    return 1 if report.rejected else 0


def _load_demo(args) -> int:
    init_db(args.database_url)
    report = load_demo(args.database_url)
    if report is None:
        print("в базе уже есть заявления, демо-данные не загружены (store not empty, demo data skipped)")
        return 0
    _print_report(report)
    return 1 if report.rejected else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hotline.status", description="Application-status store")
    url = argparse.ArgumentParser(add_help=False)
    url.add_argument("--database-url", default=None,
                     help="SQLAlchemy URL; default: $DATABASE_URL or sqlite:///var/status.db")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", parents=[url], help="migrate the database to the newest schema").set_defaults(run=_init)
    importing = commands.add_parser("import", parents=[url], help="import a department CSV")
    importing.add_argument("file")
    importing.set_defaults(run=_import)
    commands.add_parser("load-demo", parents=[url], help="load the demo applications into an empty store"
                        ).set_defaults(run=_load_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except StoreUnavailable as exc:
        # The cause names the driver error without parameters (hide_parameters).
        print(f"база данных недоступна (database unavailable): {exc.__cause__ or exc}", file=sys.stderr)
    except CsvFormatError as exc:
        print(f"файл не импортирован (file not imported): {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"файл не открывается (cannot open file): {exc.strerror}: {exc.filename}", file=sys.stderr)
    return 2
