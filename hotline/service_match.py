"""Link a department's own service name to the assistant's catalogue id.

Departments name a service in their own words («Выдача паспорта гражданина
РФ взамен утраченного»). The citizen is shown that name as written; the
catalogue id (hotline/services.py) is only a link for everything that knows
services by id, so it is set only when the name contains, lemma by lemma, one
of the ways citizens name a service (data/nlu/services.yml, the same table
the NLU uses) or the catalogue's display name. A guess would be worse than no
link: two different ids matching equally well give none.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from hotline.nlu import morph
from hotline.services import SERVICE_NAMES

SERVICES_YML = Path(__file__).resolve().parents[1] / "data" / "nlu" / "services.yml"


def _lemmas(text: str) -> tuple[str, ...]:
    return tuple(morph.lemma(w) for w in re.findall(r"\w+", text.replace("ё", "е").replace("Ё", "Е").lower()))


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[tuple[str, ...], str], ...]:
    """(lemma sequence, catalogue id), from the NLU synonyms and display names."""
    found: dict[tuple[str, ...], set[str]] = {}
    for service_id, name in SERVICE_NAMES.items():
        found.setdefault(_lemmas(name), set()).add(service_id)
    data = yaml.safe_load(SERVICES_YML.read_text(encoding="utf-8")) or {}
    for block in data.get("nlu") or []:
        service_id = block.get("synonym")
        if service_id not in SERVICE_NAMES:
            continue
        for line in str(block.get("examples") or "").splitlines():
            entry = line.strip().lstrip("-").strip()
            if entry:
                found.setdefault(_lemmas(entry), set()).add(service_id)
    # An entry claimed by two ids says nothing.
    return tuple((lemmas, ids.pop()) for lemmas, ids in found.items() if lemmas and len(ids) == 1)


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))


@lru_cache(maxsize=4096)
def catalogue_id(service: str) -> Optional[str]:
    """The catalogue id a department's service name refers to, or None.

    An id itself («passport_foreign», any case) is its own match; otherwise
    the longest catalogue phrase found in the name decides.
    """
    text = " ".join((service or "").split())
    if text.lower() in SERVICE_NAMES:
        return text.lower()
    words = _lemmas(text)
    best_len, best_ids = 0, set()
    for lemmas, service_id in _patterns():
        if len(lemmas) < best_len or not _contains(words, lemmas):
            continue
        if len(lemmas) > best_len:
            best_len, best_ids = len(lemmas), set()
        best_ids.add(service_id)
    return best_ids.pop() if len(best_ids) == 1 else None
