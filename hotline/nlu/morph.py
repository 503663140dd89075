"""Russian morphology through pymorphy3, shared by spaCy and Rasa components.

One analyser per process: building it loads the OpenCorpora dictionaries
(~15 MB), which is far too slow to repeat per message.
"""
from __future__ import annotations

from functools import lru_cache

import pymorphy3

# OpenCorpora part-of-speech tags mapped to Universal Dependencies, so that
# spaCy-side consumers (LexicalSyntacticFeaturizer's "pos" feature) see the
# tag set they were written for.
_OPENCORPORA_TO_UD = {
    "NOUN": "NOUN",
    "ADJF": "ADJ",
    "ADJS": "ADJ",
    "COMP": "ADJ",
    "VERB": "VERB",
    "INFN": "VERB",
    "PRTF": "VERB",
    "PRTS": "VERB",
    "GRND": "VERB",
    "NUMR": "NUM",
    "ADVB": "ADV",
    "NPRO": "PRON",
    "PRED": "ADV",
    "PREP": "ADP",
    "CONJ": "CCONJ",
    "PRCL": "PART",
    "INTJ": "INTJ",
}


@lru_cache(maxsize=1)
def analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def analyse(word: str) -> tuple[str, str]:
    """Return (lemma, UD part of speech) of a single lower-cased word.

    pymorphy's first parse is its most probable one; without a syntactic
    tagger in front of it that is the best available guess. The lemma keeps
    «ё» folded to «е» so that both spellings of a word share features.
    """
    parses = analyzer().parse(word)
    if not parses:
        return word.replace("ё", "е"), "X"
    best = parses[0]
    pos = _OPENCORPORA_TO_UD.get(str(best.tag.POS), "X")
    return best.normal_form.replace("ё", "е"), pos


def lemma(word: str) -> str:
    return analyse(word.lower())[0]


def lemmatize_phrase(phrase: str) -> tuple[str, ...]:
    """Lemmas of the words of a phrase, for matching inflected mentions."""
    import re

    return tuple(lemma(w) for w in re.findall(r"[\w-]+", phrase.lower()))
