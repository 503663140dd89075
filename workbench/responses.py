"""The responses of domain.yml for the editor: list them, change the text of
one variation (a chat text or the `channel: voice` one), check placeholders.

domain.yml mixes indentation styles and writes `null` on purpose; a full
ruamel round-trip would rewrite hundreds of lines a trainer never touched.
So ruamel (round-trip loader, pinned with Rasa) only finds where the text
scalar sits, the edit replaces those source lines and nothing else, and the
result is parsed again and compared with the intended change before it is
accepted: comments, order and every other byte stay as they were.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from hotline.answer_text import ACTION_FILLED, NOT_ON_THE_PHONE, VOICE, placeholders

MAX_TEXT = 4000
_ANY_BRACE = re.compile(r"[{}]")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


class ResponseError(Exception):
    """An edit refused; the message is Russian and says what to fix."""


@dataclass
class Variation:
    index: int
    channel: Optional[str]
    text: Optional[str]
    condition: str = ""
    buttons: int = 0

    @property
    def voice(self) -> bool:
        return self.channel == VOICE

    @property
    def editable(self) -> bool:
        return self.text is not None


@dataclass
class Response:
    name: str
    variations: List[Variation] = field(default_factory=list)
    comment: str = ""

    @property
    def has_voice(self) -> bool:
        return any(v.voice for v in self.variations)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def _load(text: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise ResponseError("Файл domain.yml не читается как YAML; исправьте его вручную.") from exc


def _plain(value: Any) -> Any:
    """Plain dicts/lists/strings for comparing two parses."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _display(value: Any) -> str:
    """The text as the editor shows it. A folded (>-) text shows its source
    lines, so saving it back changes only the lines the trainer changed."""
    text = str(value)
    if isinstance(value, FoldedScalarString):
        chars = list(text)
        for pos in getattr(value, "fold_pos", None) or []:
            if 0 <= pos < len(chars) and chars[pos] == " ":
                chars[pos] = "\n"
        text = "".join(chars)
    return text[:-1] if text.endswith("\n") else text


def joined(text: str) -> str:
    """A text from the editor as it is spoken: lines of a folded text are one paragraph."""
    return " ".join(line.strip() for line in (text or "").split("\n") if line.strip())


def _value(original: Any, edited: str) -> str:
    """What Rasa will read for the edited text (a folded one joins its lines)."""
    if isinstance(original, FoldedScalarString):
        return " ".join(line.strip() for line in edited.split("\n") if line.strip())
    return edited


def _condition(items: Any) -> str:
    parts = []
    for item in items or []:
        if isinstance(item, dict) and item.get("type") == "slot":
            parts.append(f"{item.get('name')} = {item.get('value')}")
    return ", ".join(parts)


def list_responses(domain_text: str) -> List[Response]:
    data = _load(domain_text) or {}
    out = []
    for name, items in (data.get("responses") or {}).items():
        response = Response(name=str(name))
        for i, item in enumerate(items or []):
            if not isinstance(item, dict):
                continue
            text = item.get("text")
            response.variations.append(Variation(
                index=i, channel=item.get("channel"), text=None if text is None else _display(text),
                condition=_condition(item.get("condition")), buttons=len(item.get("buttons") or [])))
        out.append(response)
    return out


def find(domain_text: str, name: str) -> Response:
    for response in list_responses(domain_text):
        if response.name == name:
            return response
    raise ResponseError(f"Ответа {name} нет в domain.yml: возможно, его переименовали. Обновите список.")


# --- placeholders ---------------------------------------------------------------

def _slots(data: Any) -> Dict[str, Any]:
    return {str(k): v for k, v in (data.get("slots") or {}).items()}


def check_placeholders(old: str, new: str, slots: Dict[str, Any], voice: bool) -> None:
    """Refuse a text Rasa could not fill: broken braces, unknown names, a
    placeholder the original had and the new text dropped (the answer would
    lose the phone number or the status), an action's value where the action
    does not send it, and contact details read out on the phone."""
    stray = _ANY_BRACE.findall(_PLACEHOLDER.sub("", new))
    if stray:
        raise ResponseError("В тексте есть лишняя фигурная скобка. Плейсхолдер пишется так: {имя_слота}, "
                            "латиницей, без пробелов.")
    before, after = set(placeholders(old)), set(placeholders(new))
    unknown = sorted(p for p in after if p not in slots and p not in ACTION_FILLED)
    if unknown:
        raise ResponseError("Неизвестные плейсхолдеры: " + ", ".join("{" + p + "}" for p in unknown)
                            + ". Можно использовать только слоты из domain.yml.")
    lost = sorted(before - after)
    if lost:
        raise ResponseError("В новом тексте пропали плейсхолдеры: " + ", ".join("{" + p + "}" for p in lost)
                            + ". Верните их: без них ответ потеряет данные, которые в них подставляются.")
    # Added ones must be deployment settings (a slot with a default): an
    # action's value is only there where the action sends it.
    added = sorted(p for p in after - before
                   if p in ACTION_FILLED or p not in slots or (slots[p] or {}).get("initial_value") in (None, ""))
    if added:
        raise ResponseError("Плейсхолдеры " + ", ".join("{" + p + "}" for p in added)
                            + " заполняет действие бота, а не настройка; в этот ответ их добавить нельзя.")
    if voice:
        spoken = sorted(after & NOT_ON_THE_PHONE)
        if spoken:
            raise ResponseError("В голосовом варианте не зачитывают " + ", ".join("{" + p + "}" for p in spoken)
                                + ": звонящий уже на линии, а ссылку или адрес на слух не записать.")


def clean_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    if not text:
        raise ResponseError("Текст ответа не может быть пустым.")
    if len(text) > MAX_TEXT:
        raise ResponseError(f"Текст слишком длинный: не больше {MAX_TEXT} символов.")
    if any(ord(c) < 32 and c != "\n" for c in text):
        raise ResponseError("В тексте есть непечатаемые символы; удалите их.")
    return text


# --- the source edit ------------------------------------------------------------

def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _scalar_lines(lines: Sequence[str], line: int, key_col: int) -> int:
    """One past the last source line of the scalar that starts on `line`:
    the lines after it indented deeper than its key (blank lines inside a
    block scalar included, trailing blank lines and comments left out)."""
    end = line + 1
    last = line + 1
    while end < len(lines):
        current = lines[end]
        if current.strip() == "":
            end += 1
            continue
        if _indent(current) <= key_col:
            break
        end += 1
        last = end
    return last


def _safe_plain(text: str) -> bool:
    if "\n" in text or text != text.strip() or not text:
        return False
    try:
        loaded = YAML(typ="safe").load("k: " + text)
    except YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("k") == text and "#" not in text and ": " not in text


def _render(key_prefix: str, original: Any, text: str, content_indent: int) -> List[str]:
    pad = " " * content_indent
    folded = isinstance(original, FoldedScalarString)
    if folded:
        return [key_prefix + ">-"] + [pad + line.strip() for line in text.split("\n") if line.strip()]
    if isinstance(original, (LiteralScalarString, FoldedScalarString)) or "\n" in text:
        # `|` keeps the final newline the original had (Rasa strips it anyway).
        keeps_newline = str(original).endswith("\n") if isinstance(original, LiteralScalarString) else False
        header = "|" if keeps_newline else "|-"
        return [key_prefix + header] + [(pad + line) if line else "" for line in text.split("\n")]
    if _safe_plain(text) and not (original is not None and type(original).__name__.endswith("QuotedScalarString")):
        return [key_prefix + text]
    return [key_prefix + json.dumps(text, ensure_ascii=False)]


def replace_text(domain_text: str, name: str, index: int, new_text: str) -> str:
    """domain.yml with the `text` of variation `index` of response `name`
    replaced, placeholders checked; ResponseError when refused."""
    data = _load(domain_text)
    responses = (data or {}).get("responses") or {}
    if name not in responses:
        raise ResponseError(f"Ответа {name} нет в domain.yml: возможно, его переименовали. Обновите список.")
    items = responses[name]
    if not isinstance(index, int) or not 0 <= index < len(items) or not isinstance(items[index], dict) \
            or "text" not in items[index]:
        raise ResponseError("Такого варианта ответа нет: возможно, файл изменили. Обновите страницу.")
    variation = items[index]
    original = variation["text"]
    text = clean_text(new_text)
    value = _value(original, text)
    check_placeholders(str(original), value, _slots(data), variation.get("channel") == VOICE)
    if text == _display(original):
        return domain_text

    lines = domain_text.split("\n")
    key_line, key_col = variation.lc.key("text")
    value_line, value_col = variation.lc.value("text")
    if value_line != key_line:
        raise ResponseError("Этот текст записан в domain.yml в необычном виде; измените его в файле вручную.")
    end = _scalar_lines(lines, value_line, key_col)
    first = lines[value_line]
    key_prefix = first[:value_col]
    if isinstance(original, (LiteralScalarString, FoldedScalarString)) and end > value_line + 1:
        content_indent = min(_indent(line) for line in lines[value_line + 1:end] if line.strip())
    else:
        content_indent = key_col + 2
    new_lines = _render(key_prefix, original, text, content_indent)
    result = "\n".join(lines[:value_line] + new_lines + lines[end:])

    # The edit must change exactly this one text and nothing else.
    expected = _plain(data)
    expected["responses"][name][index]["text"] = value + ("\n" if new_lines[0].endswith("|") else "")
    got = _load(result)
    if _plain(got) != expected:
        raise ResponseError("Не удалось аккуратно записать этот текст; измените его в domain.yml вручную.")
    return result
