"""Latin transliteration of Russian back to Cyrillic («privet» → «привет»).

Covers the common informal schemes citizens type on a Latin keyboard; it only
has to be good enough for a dictionary look-up, not for display.
"""
from __future__ import annotations

_MULTI = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"),
    ("sh", "ш"), ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "ё"),
    ("jo", "ё"), ("ye", "е"), ("yy", "ый"), ("iy", "ий"),
]
_SINGLE = str.maketrans({
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и",
    "y": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р",
    "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х", "c": "к", "w": "в", "x": "кс",
    "q": "к", "j": "й",
})


def to_cyrillic(word: str) -> str:
    out = word.lower()
    for latin, cyrillic in _MULTI:
        out = out.replace(latin, cyrillic)
    return out.translate(_SINGLE)
