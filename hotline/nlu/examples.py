"""When two NLU training examples are the same utterance.

One rule for the data checks (tests/test_data.py: no repeated example, no
held-out utterance close to a training one) and for the trainers' workbench,
which refuses a new example the checks would then reject.
"""
from __future__ import annotations

import difflib
import re

# «[загранпаспорт](service)» and «[СНИЛС]{"entity": "service"}» read as their text.
_ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def plain(example: str) -> str:
    """The example as words: annotations dropped, case, «ё» and punctuation folded."""
    text = _ANNOTATION.sub(r"\1", example)
    return re.sub(r"\W+", " ", text.lower().replace("ё", "е")).strip()


def _drops_to(longer: list[str], shorter: list[str]) -> bool:
    return len(longer) == len(shorter) + 1 and any(
        longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def near_copy(a: str, b: str) -> bool:
    """Same utterance in substance: equal, equal but for one word, or a
    SequenceMatcher ratio above 0.9 («сколько ждать ответа оператора» vs
    «сколько ждать ответа»). Both are plain()-folded."""
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    if _drops_to(wa, wb) or _drops_to(wb, wa):
        return True
    # ratio() is at most 2·min/(len a + len b): most pairs stop here, before
    # the (slow, pure Python) matcher is built.
    if not a or not b or 2 * min(len(a), len(b)) / (len(a) + len(b)) <= 0.9:
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() > 0.9 and matcher.ratio() > 0.9
