"""Text prepared for speech: what a synthesiser should say for a bot message.

Chat answers are written for the eye: bullets, «кавычки», links, emoji,
«AB‑987654321», «12 марта 2025 г.», «85 %», «МФЦ». Read aloud as they are,
they sound wrong or not at all (Silero reads no digits or Latin letters).
:func:`prepare` rewrites them for the ear:

* links and emoji are dropped, bullets become separate sentences;
* application numbers, SNILS and phone numbers are read in groups, digit by
  digit («эй би, девять восемь семь, шесть пять четыре, три два один»);
* dates become words («двенадцатое марта тысяча девятьсот восемьдесят
  пятого года»), other numbers too, with «%» agreeing with the number;
* abbreviations are expanded (МФЦ → «эм эф цэ», ИНН → «и эн эн»).

:func:`split_sentences` cuts the result into sentences, so that the first
one can be synthesised and played while the rest is still being made.
"""
from __future__ import annotations

import re
from typing import List

from hotline.entities import MONTHS_GENITIVE, MONTHS_GENITIVE_BY_NUMBER

_UNITS_M = ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_UNITS_F = ["ноль", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_TEENS = ["десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
          "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"]
_TENS = ["", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят",
         "девяносто"]
_HUNDREDS = ["", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот",
             "девятьсот"]
_ORD_UNITS = ["", "первый", "второй", "третий", "четвёртый", "пятый", "шестой", "седьмой", "восьмой",
              "девятый"]
_ORD_TEENS = ["десятый", "одиннадцатый", "двенадцатый", "тринадцатый", "четырнадцатый", "пятнадцатый",
              "шестнадцатый", "семнадцатый", "восемнадцатый", "девятнадцатый"]
_ORD_TENS = ["", "", "двадцатый", "тридцатый", "сороковой", "пятидесятый", "шестидесятый", "семидесятый",
             "восьмидесятый", "девяностый"]
_ORD_HUNDREDS = ["", "сотый", "двухсотый", "трёхсотый", "четырёхсотый", "пятисотый", "шестисотый",
                 "семисотый", "восьмисотый", "девятисотый"]

LATIN_LETTERS = {
    "A": "эй", "B": "би", "C": "си", "D": "ди", "E": "и", "F": "эф", "G": "джи", "H": "эйч", "I": "ай",
    "J": "джей", "K": "кей", "L": "эл", "M": "эм", "N": "эн", "O": "оу", "P": "пи", "Q": "кью", "R": "ар",
    "S": "эс", "T": "ти", "U": "ю", "V": "ви", "W": "дабл ю", "X": "экс", "Y": "уай", "Z": "зед",
}

ABBREVIATIONS = {
    "МФЦ": "эм эф цэ", "СНИЛС": "снилс", "ИНН": "и эн эн", "ФИО": "фио", "РФ": "эр эф",
    "SMS": "эс эм эс", "СМС": "эс эм эс", "ПИН": "пин", "ЕСИА": "е эс и а", "ПФР": "пэ эф эр",
    "ФНС": "эф эн эс", "МВД": "эм вэ дэ", "ГИБДД": "гэ и бэ дэ дэ", "ЗАГС": "загс", "ОМС": "о эм эс",
    "Wi-Fi": "вай фай", "Wi‑Fi": "вай фай", "online": "онлайн", "email": "имейл", "e-mail": "имейл",
    "т. е.": "то есть", "т.е.": "то есть", "т. д.": "так далее", "т.д.": "так далее", "др.": "другие",
}


def plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return few
    return many


def _below_thousand(n: int, feminine: bool = False) -> List[str]:
    words = []
    if n >= 100:
        words.append(_HUNDREDS[n // 100])
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append((_UNITS_F if feminine else _UNITS_M)[n])
    elif n >= 10:
        words.append(_TEENS[n - 10])
    elif n:
        words.append((_UNITS_F if feminine else _UNITS_M)[n])
    return words


def cardinal(n: int) -> str:
    """123 → «сто двадцать три», 2005 → «две тысячи пять»."""
    if n == 0:
        return "ноль"
    if n < 0:
        return "минус " + cardinal(-n)
    words: List[str] = []
    for value, forms, feminine in ((10**9, ("миллиард", "миллиарда", "миллиардов"), False),
                                   (10**6, ("миллион", "миллиона", "миллионов"), False),
                                   (1000, ("тысяча", "тысячи", "тысяч"), True)):
        if n >= value:
            count = n // value
            words += ([] if count == 1 else _below_thousand(count, feminine)) + [plural(count, *forms)]
            n %= value
    words += _below_thousand(n)
    return " ".join(words)


def ordinal(n: int, case: str = "nom_n") -> str:
    """Ordinal: ``nom_n`` «двенадцатое», ``gen`` «восемьдесят пятого», ``nom_m``."""
    if n <= 0:
        return cardinal(n)
    thousands, rest = divmod(n, 1000)
    if rest == 0:
        prefix = "" if thousands == 1 else {2: "двух", 3: "трёх", 4: "четырёх"}.get(thousands, cardinal(thousands))
        last, head = prefix + "тысячный", ""
    else:
        head = cardinal(thousands * 1000) if thousands else ""
        hundreds, tail = divmod(rest, 100)
        if tail == 0:
            last = _ORD_HUNDREDS[hundreds]
        else:
            head = " ".join(filter(None, [head, _HUNDREDS[hundreds]]))
            if tail < 10:
                last = _ORD_UNITS[tail]
            elif tail < 20:
                last = _ORD_TEENS[tail - 10]
            elif tail % 10 == 0:
                last = _ORD_TENS[tail // 10]
            else:
                head = " ".join(filter(None, [head, _TENS[tail // 10]]))
                last = _ORD_UNITS[tail % 10]
    last = _inflect_ordinal(last, case)
    return f"{head} {last}".strip()


def _inflect_ordinal(word: str, case: str) -> str:
    if case == "nom_m":
        return word
    if word.endswith("ий"):  # третий
        return word[:-2] + ("ье" if case == "nom_n" else "ьего")
    return word[:-2] + ("ое" if case == "nom_n" else "ого")


def spoken_date(day: int, month: int, year: int) -> str:
    """12, 3, 1985 → «двенадцатое марта тысяча девятьсот восемьдесят пятого года»."""
    return f"{ordinal(day)} {MONTHS_GENITIVE_BY_NUMBER[month]} {ordinal(year, 'gen')} года"


def digits_in_groups(digits: str, sizes=None) -> str:
    """"1234567890" → «один два три, четыре пять шесть, семь восемь, девять ноль»."""
    if sizes is None:
        sizes = {10: (3, 3, 2, 2), 9: (3, 3, 3), 11: (3, 3, 3, 2)}.get(len(digits))
        if sizes is None:
            sizes = [3] * (len(digits) // 3) + ([len(digits) % 3] if len(digits) % 3 else [])
    groups, i = [], 0
    for size in sizes:
        groups.append(" ".join(_UNITS_M[int(d)] for d in digits[i:i + size]))
        i += size
    return ", ".join(g for g in groups if g)


# --- the rewriting steps ----------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)[^\s()«»]*[^\s()«».,;:!?]|\b[\w.-]+\.(?:ru|рф|com|org|net|gov)\b(?:/[^\s()«»]*[^\s()«».,;:!?])?",
                  re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\u2300-\u23FF\u2B00-\u2BFF"
    "\uFE0E\uFE0F\u200D\u20E3]+")
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"
_APPLICATION = re.compile(r"(?<![\w-])(?:([A-Za-z]{2})-?(\d{9})|(\d{10}))(?![\w-])")
_SNILS = re.compile(r"(?<!\d)(\d{3})-(\d{3})-(\d{3})[ -](\d{2})(?!\d)")
_PHONE = re.compile(r"(?<![\d-])(\d{1,4})-(\d{2,4})-(\d{2,4})(?:-(\d{2,4}))?(?![\d-])")
_DATE_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d|\.\d)")
_DATE_WORDS = re.compile(rf"(?<!\d)(\d{{1,2}}) ({'|'.join(MONTHS_GENITIVE)})(?: (\d{{4}})(?: ?г\.| года)?)?", re.I)
_PERCENT = re.compile(r"(\d+)\s?%")
_NUMBER = re.compile(r"(?<![\w])(\d+)(?:[.,](\d+))?")


def _dates(text: str) -> str:
    def numeric(m: re.Match) -> str:
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return spoken_date(day, month, year)
        return m[0]

    def words(m: re.Match) -> str:
        month = MONTHS_GENITIVE[m[2].lower()]
        if m[3]:
            return spoken_date(int(m[1]), month, int(m[3]))
        return f"{ordinal(int(m[1]))} {MONTHS_GENITIVE_BY_NUMBER[month]}"

    return _DATE_WORDS.sub(words, _DATE_NUMERIC.sub(numeric, text))


def _identifiers(text: str) -> str:
    def application(m: re.Match) -> str:
        if m[3]:
            return digits_in_groups(m[3])
        letters = " ".join(LATIN_LETTERS[c] for c in m[1].upper())
        return f"{letters}, {digits_in_groups(m[2])}"

    text = _SNILS.sub(lambda m: digits_in_groups("".join(m.groups()), (3, 3, 3, 2)), text)
    text = _APPLICATION.sub(application, text)
    return _PHONE.sub(lambda m: ", ".join(cardinal(int(g)) if not g.startswith("0") else digits_in_groups(g, (len(g),))
                                          for g in m.groups() if g), text)


def _numbers(text: str) -> str:
    text = _PERCENT.sub(lambda m: f"{cardinal(int(m[1]))} {plural(int(m[1]), 'процент', 'процента', 'процентов')}",
                        text)

    def number(m: re.Match) -> str:
        if m[2]:
            return f"{cardinal(int(m[1]))} целых {cardinal(int(m[2]))}"
        return cardinal(int(m[1]))

    return _NUMBER.sub(number, text)


def _abbreviations(text: str) -> str:
    for short, spoken in ABBREVIATIONS.items():
        text = re.sub(rf"(?<![\w]){re.escape(short)}(?![\w])", spoken, text)
    return text


def prepare(text: str) -> str:
    """A bot message rewritten for the ear (see the module docstring)."""
    text = _EMAIL.sub("", text)
    text = _URL.sub("", text)
    text = _EMOJI.sub("", text)
    for dash in _DASHES:
        text = text.replace(dash, "-")
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    text = re.sub(r"\s+-\s+", ", ", text)  # a spaced dash is a pause, not «минус»
    text = _abbreviations(text)
    text = _dates(text)
    text = _identifiers(text)
    text = _numbers(text)
    # Bullets and line breaks become sentence breaks; list punctuation follows.
    lines = []
    for line in text.splitlines():
        line = line.strip().lstrip("•*-–·").strip()
        line = re.sub(r"[;:]$", "", line)
        if line:
            lines.append(line if line[-1] in ".!?" else line + ".")
    text = " ".join(lines)
    text = re.sub(r"[«»\"“”„]", "", text)
    text = re.sub(r"\(\s*[,.;:]?\s*\)", "", text)  # «()» left by a dropped link
    text = re.sub(r"\(([^()]*)\)", r", \1,", text)
    text = re.sub(r"[_*#`|<>\[\]{}]", " ", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r",\s*([.!?])", r"\1", text)
    text = re.sub(r"([.!?])[.,]+", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text


def split_sentences(text: str) -> List[str]:
    """Sentences of prepared text, each short enough for one synthesis call."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text) if p.strip()]
    out: List[str] = []
    for part in parts:
        while len(part) > 300:  # Silero's limit is ~1000 characters; short calls start sooner
            cut = part.rfind(",", 0, 300)
            cut = cut if cut > 50 else part.rfind(" ", 0, 300)
            out.append(part[: cut + 1].strip())
            part = part[cut + 1:].strip()
        if part:
            out.append(part)
    return out
