"""Tags trainers put on reviewed conversations («ошибка NLU», «хороший
пример»…), in the project database (hotline/db/tables/conversation_tags.py).
Blocking calls with `url=` last, run off the event loop by the pages."""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hotline.db.base import utcnow
from hotline.db.engine import get_engine, guarded
from hotline.db.tables.conversation_tags import conversation_tags

MAX_TAG = 40
_TAG = re.compile(r"^[\w][\w .-]*$")


class TagError(ValueError):
    """A tag refused; the message is Russian."""


def clean_tag(tag: str) -> str:
    tag = " ".join((tag or "").split()).lower()
    if not tag:
        raise TagError("Введите метку.")
    if len(tag) > MAX_TAG:
        raise TagError(f"Метка слишком длинная: не больше {MAX_TAG} символов.")
    if not _TAG.match(tag):
        raise TagError("Метка: буквы, цифры, пробел, точка, дефис или подчёркивание.")
    return tag


@guarded
def tags_of(keys: Iterable[str], url: Optional[str] = None) -> Dict[str, List[str]]:
    keys = list(keys)
    if not keys:
        return {}
    out: Dict[str, List[str]] = {}
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(conversation_tags.c.conversation_key, conversation_tags.c.tag)
                            .where(conversation_tags.c.conversation_key.in_(keys))
                            .order_by(conversation_tags.c.tag))
        for key, tag in rows:
            out.setdefault(key, []).append(tag)
    return out


@guarded
def add_tag(key: str, tag: str, login: str, url: Optional[str] = None) -> str:
    tag = clean_tag(tag)
    try:
        with get_engine(url).begin() as conn:
            conn.execute(conversation_tags.insert().values(conversation_key=key, tag=tag,
                                                           tagged_by=login[:64], tagged_at=utcnow()))
    except IntegrityError:
        pass  # already tagged so: the same result
    return tag


@guarded
def remove_tag(key: str, tag: str, url: Optional[str] = None) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(delete(conversation_tags).where((conversation_tags.c.conversation_key == key)
                                                     & (conversation_tags.c.tag == tag)))


@guarded
def keys_with_tag(tag: str, url: Optional[str] = None) -> List[str]:
    with get_engine(url).connect() as conn:
        return [k for (k,) in conn.execute(select(conversation_tags.c.conversation_key)
                                           .where(conversation_tags.c.tag == tag))]


@guarded
def all_tags(url: Optional[str] = None) -> List[str]:
    """Every tag in use, for the list's filter."""
    with get_engine(url).connect() as conn:
        return [t for (t,) in conn.execute(select(conversation_tags.c.tag).distinct().order_by(conversation_tags.c.tag))]
