"""Does the name a citizen gave match the department's record?

The record is «Фамилия Имя [Отчество]» in the nominative, as the department
sends it. The citizen may give the surname alone or the full name, in any
case and order, with «ё» or «е», in Latin letters, with initials, or
inflected the way Russian puts it («заявление Петровой Анны»). The surname
must be there; any other word must be the record's first name or patronymic
(or its initial): a name that contradicts the record fails the check.

Inflection is accepted only within the record word's own paradigm in its
nominative reading: «Петровой» matches the record «Петрова», but «Петров»
does not (another person).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from hotline.nlu import morph
from hotline.nlu.translit import to_cyrillic

_DASHES = re.compile(r"\s*[-‐‑‒–—―−]\s*")
_LATIN = re.compile(r"[a-z]")
# Name-like grammemes of pymorphy (surname, first name, patronymic) and the
# parts of speech surnames are often analysed as («Толстой», «Белых»).
_NAME_POS = {"NOUN", "ADJF"}


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


def words(name: Optional[str]) -> list[str]:
    """Lower-case words; hyphenated surnames stay one word with «-»."""
    text = _DASHES.sub("-", _fold(name or "")).replace(".", " ")
    out = []
    for word in re.findall(r"[\w-]+", text):
        word = word.strip("-")
        if word and _LATIN.search(word):
            word = to_cyrillic(word)
        if word:
            out.append(word)
    return out


def _skeleton(word: str) -> str:
    # Latin spellings lose what the transliteration cannot know («й»/«и»,
    # «ь», «ъ», «э»/«е», doubled letters); compare those without them.
    word = word.replace("й", "и").replace("ы", "и").replace("э", "е").replace("ь", "").replace("ъ", "")
    return re.sub(r"(.)\1+", r"\1", word)


@lru_cache(maxsize=20_000)
def _forms(record_word: str) -> frozenset[str]:
    """Every inflected form of a record word, read as a nominative."""
    forms = {record_word}
    for parse in morph.analyzer().parse(record_word):
        tag = parse.tag
        if tag.case != "nomn" or str(tag.POS) not in _NAME_POS:
            continue
        for form in parse.lexeme:
            # Same gender and number as the record: «Петрова» (femn) does not
            # yield «Петров» (masc), which is another person.
            if form.tag.gender == tag.gender and form.tag.number == tag.number:
                forms.add(_fold(form.word))
    return frozenset(forms)


def _part_matches(given: str, record: str, latin: bool) -> bool:
    if given == record or given in _forms(record):
        return True
    return latin and _skeleton(given) == _skeleton(record)


def _word_matches(given: str, record: str, latin: bool) -> bool:
    given_parts, record_parts = given.split("-"), record.split("-")
    if len(given_parts) != len(record_parts):
        return False
    return all(_part_matches(g, r, latin) for g, r in zip(given_parts, record_parts))


def names_match(given: Optional[str], record: Optional[str]) -> bool:
    """True if `given` names the record's person: the surname, plus any of
    the first name and patronymic (full or as an initial), nothing else."""
    latin = bool(_LATIN.search(_fold(given or "")))
    claimed, stored = words(given), words(record)
    if not claimed or not stored or len(claimed) > len(stored):
        return False
    surname, others = stored[0], stored[1:]
    found_surname = False
    for word in claimed:
        if not found_surname and _word_matches(word, surname, latin):
            found_surname = True
            continue
        match = next((o for o in others if (len(word) == 1 and o.startswith(word))
                      or _word_matches(word, o, latin)), None)
        if match is None:
            return False
        others.remove(match)
    return found_surname
