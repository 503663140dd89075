"""The command line of hotline.ops.retention (usage in the package's docstring)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from hotline import settings
from hotline.ops.retention.jobs import Retention, Subject


def _subject(args: argparse.Namespace) -> Subject:
    if args.application:
        return Subject("application", application=args.application)
    if args.channel and args.conversation:
        return Subject("conversation", channel=args.channel, conversation=args.conversation)
    raise SystemExit("нужно --channel и --conversation или --application (need a conversation or an application)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hotline.ops.retention",
                                     description="Retention purge and data subject requests")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=None, help="status store (default $DATABASE_URL)")
    common.add_argument("--tracker-url", default=None, help="tracker store (default $TRACKER_DATABASE_URL)")
    common.add_argument("--operator", default=None, help="who runs it (audit; default $RETENTION_OPERATOR/$USER)")
    common.add_argument("--request", default=None, help="request or ticket reference (audit)")
    subject = argparse.ArgumentParser(add_help=False)
    subject.add_argument("--channel", help="rest, socketio, telegram, vk, ...")
    subject.add_argument("--conversation", help="the channel's conversation id")
    subject.add_argument("--application", help="application number")
    commands = parser.add_subparsers(dest="command", required=True)
    purge = commands.add_parser("purge", parents=[common], help="delete what is older than the retention period")
    purge.add_argument("--days", type=int, default=settings.get("RETENTION_DAYS"))
    purge.add_argument("--application-days", type=int, default=settings.get("APPLICATION_RETENTION_DAYS"))
    purge.add_argument("--dry-run", action="store_true", help="count only (still audited)")
    export = commands.add_parser("export", parents=[common, subject], help="a citizen's data as JSON")
    export.add_argument("--out", default="-", help="file (default: standard output)")
    delete = commands.add_parser("delete", parents=[common, subject], help="delete a citizen's data")
    delete.add_argument("--yes", action="store_true", help="really delete")
    commands.add_parser("audit", parents=[common], help="the latest audit records")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from hotline.db.engine import StoreUnavailable

    try:
        retention = Retention(args.database_url, args.tracker_url, args.operator, args.request)
        if args.command == "purge":
            counts = retention.purge(args.days, args.application_days, args.dry_run)
            print(json.dumps({"purged" if not args.dry_run else "would_purge": counts,
                              "retention_days": args.days, "application_retention_days": args.application_days},
                             ensure_ascii=False))
            return 0
        if args.command == "audit":
            print(json.dumps(retention.audit_records(), ensure_ascii=False, indent=1))
            return 0
        subject = _subject(args)
        if args.command == "export":
            data = retention.export(subject)
            if data is None:
                print("ничего не найдено (nothing found)", file=sys.stderr)
                return 1
            body = json.dumps(data, ensure_ascii=False, indent=1)
            if args.out == "-":
                print(body)
            else:
                Path(args.out).write_text(body, encoding="utf-8")
                print(f"выгружено в {args.out} (exported)", file=sys.stderr)
            return 0
        if not args.yes:
            print("удаление необратимо: добавьте --yes (deletion is irreversible: add --yes)", file=sys.stderr)
            return 2
        counts = retention.delete(subject)
        print(json.dumps({"deleted": counts}, ensure_ascii=False))
        return 0 if counts.pop("found") else 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"база данных недоступна (database unavailable): {exc.__cause__ or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # driver errors: class only, parameters are hidden
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg2")):
            print(f"ошибка базы данных (database error): {type(exc).__name__}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
