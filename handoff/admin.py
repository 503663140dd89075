"""Operator accounts from the command line: `python -m handoff.admin --help`.

    python -m handoff.admin add-operator --login ivanova --name "Анна Иванова" [--admin] [--trainer] [--telegram-id 123]
    python -m handoff.admin add-trainer --login petrov --name "Пётр Петров"   # workbench only, no console
    python -m handoff.admin grant-trainer --login ivanova     # the trainers' workbench (issue 15)
    python -m handoff.admin revoke-trainer --login ivanova
    python -m handoff.admin disable-operator --login ivanova
    python -m handoff.admin enable-operator --login ivanova
    python -m handoff.admin set-password --login ivanova
    python -m handoff.admin list-operators
    python -m handoff.admin ensure-admin      # first start: an admin with a random password, printed once

A password is read from HANDOFF_PASSWORD or standard input (--password-stdin);
otherwise a random one is generated and printed once. Every change is written
to the audit log. Exit codes: 0 done, 1 refused (exists, unknown, bad input),
2 database unavailable.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Optional, Sequence

from hotline.status import StoreUnavailable
from hotline import settings
from hotline.db.engine import init_db
from handoff import auth
from handoff import repository as repo

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AdminError(ValueError):
    pass


def role_words(operator: repo.OperatorView) -> str:
    if operator.is_admin:
        words = ["администратор"]
    else:
        words = ["оператор"] if operator.is_operator else []
    if operator.is_trainer:
        words.append("тренер")
    return ", ".join(words) or "без роли"


def add_operator(login: str, display_name: str, password: str, *, is_admin: bool = False,
                 telegram_user_id: Optional[int] = None, is_operator: bool = True, is_trainer: bool = False,
                 by: Optional[int] = None, ip: Optional[str] = None,
                 via: str = "console", url: Optional[str] = None) -> repo.OperatorView:
    login = (login or "").strip().lower()
    display_name = " ".join((display_name or "").split())
    if not LOGIN.match(login):
        raise AdminError("Логин: 2–64 символа, латинские буквы, цифры, точка, дефис, подчёркивание")
    if not display_name or len(display_name) > 200:
        raise AdminError("Укажите имя оператора (до 200 символов)")
    try:
        password_hash = auth.hash_password(password)
    except ValueError:
        raise AdminError(f"Пароль должен быть не короче {auth.MIN_PASSWORD_LENGTH} символов") from None
    if telegram_user_id is not None and repo.operator_by_telegram(telegram_user_id, url=url):
        raise AdminError("Этот Telegram-аккаунт уже привязан к другому оператору")
    try:
        operator = repo.create_operator(login, display_name, password_hash, is_admin=is_admin,
                                        telegram_user_id=telegram_user_id, is_operator=is_operator,
                                        is_trainer=is_trainer, url=url)
    except repo.OperatorExists:
        raise AdminError(f"Оператор с логином {login} уже есть") from None
    repo.record_audit("admin_add_operator", operator_id=by, subject=login, ip=ip, via=via,
                      detail=role_words(operator), url=url)
    return operator


def set_trainer(login: str, trainer: bool, *, by: Optional[int] = None, ip: Optional[str] = None,
                via: str = "console", url: Optional[str] = None) -> repo.OperatorView:
    """Grant or revoke the trainer role (the workbench); audited either way."""
    operator = repo.operator_by_login(login, url=url)
    if operator is None:
        raise AdminError(f"Нет оператора {login}")
    updated = repo.update_operator(login, is_trainer=trainer, url=url)
    repo.record_audit("admin_grant_trainer" if trainer else "admin_revoke_trainer", operator_id=by,
                      subject=login, ip=ip, via=via, url=url)
    assert updated is not None
    return updated


def set_active(login: str, active: bool, *, by: Optional[int] = None, ip: Optional[str] = None,
               via: str = "console", url: Optional[str] = None) -> repo.OperatorView:
    operator = repo.operator_by_login(login, url=url)
    if operator is None:
        raise AdminError(f"Нет оператора {login}")
    if not active and by is not None and operator.id == by:
        raise AdminError("Нельзя отключить собственную учётную запись")
    updated = repo.update_operator(login, is_active=active, url=url)
    repo.record_audit("admin_enable_operator" if active else "admin_disable_operator", operator_id=by,
                      subject=login, ip=ip, via=via, url=url)
    assert updated is not None
    return updated


def set_password(login: str, password: str, *, by: Optional[int] = None, via: str = "cli",
                 url: Optional[str] = None) -> None:
    if repo.operator_by_login(login, url=url) is None:
        raise AdminError(f"Нет оператора {login}")
    try:
        password_hash = auth.hash_password(password)
    except ValueError:
        raise AdminError(f"Пароль должен быть не короче {auth.MIN_PASSWORD_LENGTH} символов") from None
    repo.update_operator(login, password_hash=password_hash, url=url)
    ended = repo.close_operator_sessions(login, url=url)
    repo.record_audit("admin_set_password", operator_id=by, subject=login, via=via, url=url,
                      detail=f"сессий завершено: {ended}")


def _password(args) -> tuple[str, bool]:
    """(password, generated)."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n"), False
    if settings.get("HANDOFF_PASSWORD"):
        return settings.get("HANDOFF_PASSWORD"), False
    return auth.generate_password(), True


def _add(args) -> int:
    password, generated = _password(args)
    operator = add_operator(args.login, args.name, password, is_admin=args.admin,
                            telegram_user_id=args.telegram_id, is_operator=not args.trainer_only,
                            is_trainer=args.trainer or args.trainer_only, via="cli", url=args.database_url)
    print(f"добавлен {operator.login} ({operator.display_name}): {role_words(operator)}")
    if generated:
        print(f"пароль (показывается один раз): {password}")
    return 0


def _toggle(active: bool):
    def run(args) -> int:
        set_active(args.login, active, via="cli", url=args.database_url)
        print(f"{args.login}: {'включён' if active else 'отключён'}")
        return 0

    return run


def _trainer(grant: bool):
    def run(args) -> int:
        operator = set_trainer(args.login, grant, via="cli", url=args.database_url)
        print(f"{operator.login}: {role_words(operator)}")
        return 0

    return run


def _set_password(args) -> int:
    password, generated = _password(args)
    set_password(args.login, password, url=args.database_url)
    print(f"пароль {args.login} изменён")
    if generated:
        print(f"новый пароль (показывается один раз): {password}")
    return 0


def _list(args) -> int:
    for op in repo.list_operators(url=args.database_url):
        flags = ", ".join(f for f in ("админ" if op.is_admin else "", "тренер" if op.is_trainer else "",
                                      "" if op.is_operator or op.is_admin else "без консоли",
                                      "" if op.is_active else "отключён",
                                      f"telegram {op.telegram_user_id}" if op.telegram_user_id else "") if f)
        print(f"{op.login}\t{op.display_name}" + (f"\t({flags})" if flags else ""))
    return 0


def _ensure_admin(args) -> int:
    if repo.count_operators(url=args.database_url) > 0:
        print("операторы уже есть; администратор не создан")
        return 0
    password, generated = _password(args)
    add_operator(args.login, args.name, password, is_admin=True, via="cli", url=args.database_url)
    print(f"создан первый администратор консоли: логин {args.login}")
    if generated:
        print(f"пароль (показывается один раз): {password}")
    if args.password_file:
        fd = os.open(args.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{args.login}\n{password}\n")
        print(f"логин и пароль сохранены в {args.password_file} (только для владельца)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m handoff.admin", description="Операторы консоли")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=None, help="default: $DATABASE_URL or sqlite:///var/status.db")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-operator", parents=[common], help="add an operator")
    add.add_argument("--login", required=True)
    add.add_argument("--name", required=True, help="the name citizens see («Анна Иванова»)")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--trainer", action="store_true", help="may also use the trainers' workbench")
    add.add_argument("--telegram-id", type=int, default=None, help="Telegram user id for the operators' group")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(run=_add, trainer_only=False)
    trainer = commands.add_parser("add-trainer", parents=[common], help="add a trainer (workbench only, no console)")
    trainer.add_argument("--login", required=True)
    trainer.add_argument("--name", required=True)
    trainer.add_argument("--password-stdin", action="store_true")
    trainer.set_defaults(run=_add, trainer_only=True, trainer=True, admin=False, telegram_id=None)
    for name, grant in (("grant-trainer", True), ("revoke-trainer", False)):
        sub = commands.add_parser(name, parents=[common], help=f"{name.split('-')[0]} the workbench role")
        sub.add_argument("--login", required=True)
        sub.set_defaults(run=_trainer(grant))
    for name, active in (("disable-operator", False), ("enable-operator", True)):
        sub = commands.add_parser(name, parents=[common])
        sub.add_argument("--login", required=True)
        sub.set_defaults(run=_toggle(active))
    pw = commands.add_parser("set-password", parents=[common])
    pw.add_argument("--login", required=True)
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(run=_set_password)
    commands.add_parser("list-operators", parents=[common]).set_defaults(run=_list)
    first = commands.add_parser("ensure-admin", parents=[common], help="create the first admin if there is none")
    first.add_argument("--login", default="admin")
    first.add_argument("--name", default="Администратор")
    first.add_argument("--password-stdin", action="store_true")
    first.add_argument("--password-file", default=None, help="also write login and password here (mode 600)")
    first.set_defaults(run=_ensure_admin)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        init_db(args.database_url)
        return args.run(args)
    except AdminError as exc:
        print(f"отказано: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"база данных недоступна: {exc.__cause__ or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
