"""Spoken Russian numbers, dates and application numbers → entity values.

Speech recognisers write numbers as words: «один два три четыре …»,
«сто двадцать три», «эй би девять восемь семь …», «двенадцатое марта
восемьдесят пятого года». This module turns them into the values the
assistant validates (``1234…``, ``123``, ``AB-987…``, ``1985-03-12``) and
then hands them to :mod:`hotline.entities`, so the voice channel and the
text channels agree on one canonical form.

Rules
-----
* A *cardinal phrase* follows Russian grammar: hundreds, tens, units in
  decreasing order, with «тысяча/тысячи/тысяч» as a multiplier
  («сто двадцать три» = 123, «две тысячи пять» = 2005). A new phrase starts
  when the next word cannot continue the current one («двадцать три
  двадцать» = 23 | 20).
* A *digit string* concatenates consecutive phrases, as people read long
  numbers in groups: «двенадцать тридцать четыре пятьдесят шесть» = "123456",
  «ноль пять» = "05".
* *Ordinals* («двенадцатое», «восемьдесят пятого», «двухтысячного») end a
  phrase; a cardinal prefix adds to them («тысяча девятьсот восемьдесят
  пятого» = 1985).
* Two-digit years of birth: ``yy`` after the current year's two digits means
  19yy, otherwise 20yy («восемьдесят пятого» = 1985, «десятого» = 2010).
* *Letters* of the application-number prefix may be said the English way
  («эй би», «кей ди») or the Russian way («а бэ», «ка дэ»); only the two
  letter names right before the digits count, so «и» or «а» as ordinary
  words never become letters.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from hotline.entities import MONTHS_GENITIVE, normalize_application_number, parse_birth_date
from voice.spelling import spelled_word

# --- vocabulary -----------------------------------------------------------

UNITS: Dict[str, int] = {
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "одно": 1, "два": 2, "две": 2, "три": 3,
    "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
}
TEENS: Dict[str, int] = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19,
}
TENS: Dict[str, int] = {
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
}
HUNDREDS: Dict[str, int] = {
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}
THOUSANDS = {"тысяча", "тысячи", "тысяч", "тысячу"}

_ORDINAL_STEMS: Dict[str, int] = {
    "перв": 1, "втор": 2, "четверт": 4, "пят": 5, "шест": 6, "седьм": 7, "восьм": 8, "девят": 9,
    "десят": 10, "одиннадцат": 11, "двенадцат": 12, "тринадцат": 13, "четырнадцат": 14,
    "пятнадцат": 15, "шестнадцат": 16, "семнадцат": 17, "восемнадцат": 18, "девятнадцат": 19,
    "двадцат": 20, "тридцат": 30, "сороков": 40, "пятидесят": 50, "шестидесят": 60,
    "семидесят": 70, "восьмидесят": 80, "девяност": 90, "сот": 100, "двухсот": 200,
    "трехсот": 300, "четырехсот": 400, "пятисот": 500, "шестисот": 600, "семисот": 700,
    "восьмисот": 800, "девятисот": 900, "тысячн": 1000, "двухтысячн": 2000,
}
_ORDINAL_ENDINGS = ("ое", "ого", "ый", "ой", "ий", "ая", "ую", "ом", "ому", "ым")
ORDINALS: Dict[str, int] = {stem + end: value for stem, value in _ORDINAL_STEMS.items() for end in _ORDINAL_ENDINGS}
ORDINALS.update({f"трет{end}": 3 for end in ("ье", "ьего", "ий", "ья", "ью", "ьем", "ьему")})
# «пятый» vs «пятое»: the stem «пят» with «ый» is right; «вторий» etc. are harmless extras.

MONTHS: Dict[str, int] = dict(MONTHS_GENITIVE)
MONTHS.update({
    "январь": 1, "февраль": 2, "март": 3, "апрель": 4, "май": 5, "июнь": 6, "июль": 7,
    "август": 8, "сентябрь": 9, "октябрь": 10, "ноябрь": 11, "декабрь": 12,
})

# Latin letters as Russian speakers name them: the English way («эй би») and
# the way Russian schools name Latin letters («а бэ цэ»).
LETTER_NAMES: Dict[str, str] = {}
for _letter, _names in {
    "A": "эй а", "B": "би бэ бе", "C": "си цэ це сэ", "D": "ди дэ де", "E": "е э ии", "F": "эф эфф",
    "G": "джи гэ ге же", "H": "эйч аш ха", "I": "ай и", "J": "джей йот жи", "K": "кей ка кэй",
    "L": "эл эль", "M": "эм", "N": "эн", "O": "оу о", "P": "пи пэ пе", "Q": "кью ку", "R": "ар эр",
    "S": "эс", "T": "ти тэ те", "U": "ю у", "V": "ви вэ ве", "W": "дабл-ю дубль-вэ", "X": "экс икс",
    "Y": "уай игрек", "Z": "зед зи зэт зет зэд",
}.items():
    for _name in _names.split():
        LETTER_NAMES.setdefault(_name, _letter)
LETTER_NAMES.update({c.lower(): c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
# Single Cyrillic letters that look Latin on documents, as a recogniser may write them.
for _cyr, _lat in zip("всенрхтмк", "BCEHPXTMK"):
    LETTER_NAMES.setdefault(_cyr, _lat)

FILLERS = {"дефис", "тире", "черточка", "минус", "и", "номер", "года", "год", "г"}
_DATE_FILLERS = {"года", "год", "г", "числа", "рождения"}


def tokenize(text: str) -> List[str]:
    text = text.lower().replace("ё", "е")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return re.findall(r"[a-zа-я]+(?:-[a-zа-я]+)?|\d+", text)


# --- cardinal and ordinal phrases ------------------------------------------

@dataclass
class Chunk:
    """One spoken number: its digits as said («05» keeps the zero) and value."""

    digits: str
    value: int
    start: int  # token index
    end: int  # one past the last token
    ordinal: bool = False


def _word_value(token: str) -> Optional[Tuple[str, int]]:
    for kind, table in (("unit", UNITS), ("teen", TEENS), ("ten", TENS), ("hundred", HUNDREDS)):
        if token in table:
            return kind, table[token]
    return None


def number_chunks(tokens: Sequence[str], start: int = 0) -> List[Chunk]:
    """Consecutive number phrases from ``tokens[start:]`` until a non-number word."""
    chunks: List[Chunk] = []
    i = start
    while i < len(tokens):
        chunk = _phrase(tokens, i)
        if chunk is None:
            break
        chunks.append(chunk)
        i = chunk.end
    return chunks


def _phrase(tokens: Sequence[str], i: int) -> Optional[Chunk]:
    """The longest cardinal (or cardinal+ordinal) phrase starting at i."""
    if i >= len(tokens):
        return None
    token = tokens[i]
    if token.isdigit():
        return Chunk(token, int(token), i, i + 1)
    start = i
    total = 0  # completed thousands
    group = 0  # current group below a thousand
    stage = 0  # 0 nothing, 1 hundreds, 2 tens, 3 units/teens: what may still follow
    any_word = False
    zero = False
    while i < len(tokens):
        token = tokens[i]
        if token in ORDINALS:
            value = ORDINALS[token]
            if zero or (any_word and not (
                    (value < 10 and stage < 3)
                    or (10 <= value < 100 and stage < 2)
                    or (100 <= value < 1000 and stage == 0))):
                break
            if value >= 1000:
                total, group = total + value, 0
            else:
                group += value
            number = total + group
            return Chunk(str(number), number, start, i + 1, ordinal=True)
        if token in THOUSANDS:
            if total or zero or not _thousand_agrees(token, group):
                break
            total, group, stage, any_word = (group or 1) * 1000, 0, 0, True
            i += 1
            continue
        word = _word_value(token)
        if word is None:
            break
        kind, value = word
        if zero:
            break
        if kind == "hundred" and stage == 0:
            group += value
            stage = 1
        elif kind == "ten" and stage <= 1:
            group += value
            stage = 2
        elif kind in ("teen", "unit") and stage <= 1 and not (kind == "unit" and value == 0 and any_word):
            group += value
            stage = 3
            zero = value == 0
        elif kind == "unit" and stage == 2 and value > 0:
            group += value
            stage = 3
        else:
            break
        any_word = True
        i += 1
    if not any_word:
        return None
    number = total + group
    return Chunk("0" if zero else str(number), number, start, i)


def _thousand_agrees(word: str, group: int) -> bool:
    """«тысяча» after nothing or «одна», «две тысячи», «пять тысяч»: else a new number starts."""
    if word in ("тысяча", "тысячу"):
        return group in (0, 1)
    if word == "тысячи":
        return group % 10 in (2, 3, 4) and group % 100 not in (12, 13, 14)
    return group > 0 and not (group % 10 in (1, 2, 3, 4) and group % 100 not in (11, 12, 13, 14))


def parse_number(text: str) -> Optional[int]:
    """«сто двадцать три» → 123; None unless the text is one number phrase."""
    tokens = [t for t in tokenize(text) if t not in FILLERS]
    chunks = number_chunks(tokens)
    if len(chunks) == 1 and chunks[0].end == len(tokens):
        return chunks[0].value
    return None


def spoken_digits(text: str) -> Optional[str]:
    """«один два три» → "123", «двенадцать ноль пять» → "1205"; None if other words."""
    tokens = [t for t in tokenize(text) if t not in FILLERS]
    chunks = number_chunks(tokens)
    if not chunks or chunks[-1].end != len(tokens):
        return None
    return "".join(c.digits for c in chunks)


# --- application numbers ----------------------------------------------------

def _letter(token: str) -> Optional[str]:
    return LETTER_NAMES.get(token)


def find_application_number(text: str) -> Optional[str]:
    """The first application number said in ``text``, normalised.

    «эй би девять восемь семь шесть пять четыре три два один» → "AB-987654321",
    «один два три четыре пять шесть семь восемь девять ноль» → "1234567890".
    """
    tokens = [t for t in tokenize(text) if t not in {"дефис", "тире", "черточка", "минус"}]
    for span in _number_spans(tokens):
        letters, digits = span
        for candidate in ((letters + digits) if letters else None, digits):
            if candidate:
                number = normalize_application_number(candidate)
                if number:
                    return number
    return None


def _number_spans(tokens: Sequence[str]) -> Iterable[Tuple[str, str]]:
    i = 0
    while i < len(tokens):
        chunks = number_chunks(tokens, i)
        if not chunks or any(c.ordinal for c in chunks):
            i += 1
            continue
        digits = "".join(c.digits for c in chunks)
        prefix = ""
        # Letter names right before the digits; «эй би», also glued «ab».
        j = i - 1
        if j >= 0 and re.fullmatch(r"[a-z]{2}", tokens[j]):
            prefix = tokens[j].upper()
        elif j >= 1 and _letter(tokens[j]) and _letter(tokens[j - 1]):
            prefix = _letter(tokens[j - 1]) + _letter(tokens[j])
        yield prefix, digits
        i = chunks[-1].end


# --- dates -------------------------------------------------------------------

def _expand_year(value: int, digits: str, today: dt.date) -> Optional[int]:
    if len(digits) == 4 or value >= 1000:
        return value
    if value < 100:
        century = 1900 if value > today.year % 100 else 2000
        return century + value
    return None


def find_birth_date(text: str, today: Optional[dt.date] = None) -> Optional[dt.date]:
    """«двенадцатое марта восемьдесят пятого года» → date(1985, 3, 12).

    Also «двенадцать марта тысяча девятьсот восемьдесят пять»,
    «двенадцать ноль три восемьдесят пять», «12 03 1985». The result is
    checked by :func:`hotline.entities.parse_birth_date` (no future dates, no
    dates more than 130 years back).
    """
    today = today or dt.date.today()
    tokens = [t for t in tokenize(text) if t not in _DATE_FILLERS]
    for i in range(len(tokens)):
        date = _date_at(tokens, i, today)
        if date is not None:
            checked = parse_birth_date(date.isoformat(), today=today)
            if checked is not None:
                return checked
    return None


def _date_at(tokens: Sequence[str], i: int, today: dt.date) -> Optional[dt.date]:
    if i > 0 and _phrase(tokens, i - 1) is not None:
        return None  # a date starts where the spoken number starts («тридцать второе» is not «второе»)
    day_chunk = _phrase(tokens, i)
    if day_chunk is None or not 1 <= day_chunk.value <= 31:
        return None
    j = day_chunk.end
    if j < len(tokens) and tokens[j] in MONTHS:
        month = MONTHS[tokens[j]]
        year_chunks = number_chunks(tokens, j + 1)
        if not year_chunks:
            return None
        year = _year(year_chunks, today)
        return _safe(year, month, day_chunk.value)
    # Numeric: day month year as three phrases («двенадцать три восемьдесят пять»)
    # or as digits («двенадцать ноль три тысяча девятьсот восемьдесят пять»).
    chunks = [day_chunk] + number_chunks(tokens, j)
    if len(chunks) in (3, 4) and 1 <= chunks[1].value <= 12 and chunks[1].digits != "0" and (
            len(chunks) == 3 or len(chunks[2].digits + chunks[3].digits) == 4):
        year = _year(chunks[2:], today)
        date = _safe(year, chunks[1].value, day_chunk.value)
        if date:
            return date
    digits = "".join(c.digits for c in chunks)
    for day_len in (2, 1):
        for month_len in (2, 1):
            rest = digits[day_len + month_len:]
            if len(rest) in (2, 4) and day_len + month_len + len(rest) == len(digits):
                year = _expand_year(int(rest), rest, today)
                date = _safe(year, int(digits[day_len:day_len + month_len]), int(digits[:day_len]))
                if date:
                    return date
    return None


def _year(chunks: Sequence[Chunk], today: dt.date) -> Optional[int]:
    first = chunks[0]
    if first.value >= 1000 or first.ordinal or len(chunks) == 1:
        return _expand_year(first.value, first.digits, today)
    digits = "".join(c.digits for c in chunks[:2])  # «девятнадцать восемьдесят пять»
    if len(digits) == 4:
        return int(digits)
    return _expand_year(first.value, first.digits, today)


def _safe(year: Optional[int], month: int, day: int) -> Optional[dt.date]:
    if year is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# --- whole utterances ----------------------------------------------------------

def normalize_utterance(text: str, expect: Optional[str] = None, today: Optional[dt.date] = None) -> str:
    """What to send to the assistant for a recognised utterance.

    ``expect`` is the slot the assistant asked for (``application_number`` or
    ``birth_date``): then the value alone is sent in the format the text
    channels accept («AB-987654321», «12.03.1985»); for ``full_name`` a
    surname spelled letter by letter is joined into the word. Otherwise dates,
    application numbers and multi-word numbers inside the sentence are
    rewritten as figures, so the NLU's regexes see them.
    """
    if expect == "application_number":
        number = find_application_number(text)
        if number:
            return number
    if expect == "birth_date":
        date = find_birth_date(text, today)
        if date:
            return date.strftime("%d.%m.%Y")
    if expect == "full_name":
        return spelled_word(text) or text
    return rewrite_numbers(text, today)


def rewrite_numbers(text: str, today: Optional[dt.date] = None) -> str:
    """«статус заявления один два три … ноль» → «статус заявления 1234567890»."""
    today = today or dt.date.today()
    words = text.split()
    # Number words are recognised on a normalised copy; other words stay as said.
    keys = [re.sub(r"[^\w-]", "", w.lower().replace("ё", "е")) for w in words]
    out: List[str] = []
    tokens = keys
    i = 0
    while i < len(tokens):
        date_end, date = _date_span(tokens, i, today)
        if date is not None:
            out.append(date.strftime("%d.%m.%Y"))
            i = date_end
            continue
        chunks = number_chunks(tokens, i)
        if chunks and not any(c.ordinal for c in chunks):
            spoken = chunks[-1].end - i
            digits = "".join(c.digits for c in chunks)
            if spoken >= 2 or len(digits) >= 2:
                prefix = _letter_prefix(out)
                if prefix and normalize_application_number(prefix + digits):
                    del out[-2:]
                    out.append(normalize_application_number(prefix + digits))
                else:
                    out.append(digits)
                i = chunks[-1].end
                continue
        out.append(words[i])
        i += 1
    return " ".join(out)


def _letter_prefix(out: List[str]) -> Optional[str]:
    last = [w.lower() for w in out[-2:]]
    if len(last) == 2 and _letter(last[1]) and _letter(last[0]):
        return _letter(last[0]) + _letter(last[1])
    return None


def _date_span(tokens: Sequence[str], i: int, today: dt.date) -> Tuple[int, Optional[dt.date]]:
    """A «day month year» date starting at i (word months only, to stay safe)."""
    day = _phrase(tokens, i)
    if day is None or not 1 <= day.value <= 31 or day.end >= len(tokens) or tokens[day.end] not in MONTHS:
        return i, None
    year_chunks = number_chunks(tokens, day.end + 1)
    if not year_chunks:
        return i, None
    year = _year(year_chunks, today)
    date = _safe(year, MONTHS[tokens[day.end]], day.value)
    if date is None:
        return i, None
    used = year_chunks[0].end
    if len(year_chunks) >= 2 and year_chunks[0].value < 100 and not year_chunks[0].ordinal:
        if len("".join(c.digits for c in year_chunks[:2])) == 4:
            used = year_chunks[1].end
    while used < len(tokens) and tokens[used] in _DATE_FILLERS:
        used += 1
    return used, date
