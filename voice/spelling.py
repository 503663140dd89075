"""A surname spelled letter by letter on the phone («пэ е тэ эр о вэ а»).

Callers spell a surname the recogniser got wrong, and Vosk writes what it
hears: letter names («пэ», «эр», «эль»), single letters, or a mix. When every
word of an utterance is a letter, the letters are joined into one word;
anything else is left alone (a spoken surname is already a word).
"""
from __future__ import annotations

from typing import Optional

# Russian letter names as spoken, and the letters themselves.
_NAMES = {
    "а": "а", "бэ": "б", "бе": "б", "вэ": "в", "ве": "в", "гэ": "г", "ге": "г", "дэ": "д", "де": "д",
    "е": "е", "ё": "ё", "йо": "ё", "жэ": "ж", "же": "ж", "зэ": "з", "зе": "з", "и": "и", "ка": "к",
    "эль": "л", "эл": "л", "эм": "м", "эн": "н", "о": "о", "пэ": "п", "пе": "п", "эр": "р", "эс": "с",
    "тэ": "т", "те": "т", "у": "у", "эф": "ф", "ха": "х", "цэ": "ц", "це": "ц", "че": "ч", "ша": "ш",
    "ща": "щ", "ы": "ы", "э": "э", "ю": "ю", "я": "я",
}
# Two-word letter names.
_PAIRS = {("и", "краткое"): "й", ("мягкий", "знак"): "ь", ("твердый", "знак"): "ъ", ("твёрдый", "знак"): "ъ"}
_SINGLE_LETTERS = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
MIN_LETTERS = 3


def spelled_word(text: str) -> Optional[str]:
    """The word spelled in `text`, or None if `text` is not a spelling."""
    words = text.lower().replace("-", " ").split()
    letters: list[str] = []
    i = 0
    while i < len(words):
        pair = tuple(words[i:i + 2])
        if pair in _PAIRS:
            letters.append(_PAIRS[pair])
            i += 2
            continue
        word = words[i]
        letter = _NAMES.get(word) or (word if word in _SINGLE_LETTERS else None)
        if letter is None:
            return None
        letters.append(letter)
        i += 1
    return "".join(letters) if len(letters) >= MIN_LETTERS else None
