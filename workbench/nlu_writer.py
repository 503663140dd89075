"""Writing a labelled message into the NLU training data.

The example goes into the data/nlu/*.yml file that already holds the most
examples of its intent (faq/<key> into the FAQ file), appended as one line
at the end of that intent's ``examples: |`` block. The file is edited as
text, not re-serialised: every other byte (order, comments, quoting, blank
lines) stays as the trainers wrote it. The result is parsed again and must
differ from the original by exactly the one new example, or nothing is written.

Refused, with a Russian message a trainer can act on: an unknown intent or
entity; a span that is not in the text; text with personal data or a mask
left in it; an example the data checks (tests/test_data.py) would reject —
already in the training data after folding case, «ё» and punctuation, or a
near-copy of a held-out utterance (tests/nlu_heldout.yml), which would make
the held-out evaluation test memory instead of understanding.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import yaml

from hotline.nlu.examples import near_copy, plain
from hotline.paths import ROOT
from hotline.privacy import MASK, mask_free_text
from workbench import files

MAX_CHARS = 300
_WRITING = threading.Lock()
HELD_OUT = Path("tests") / "nlu_heldout.yml"
NLU_DIR = Path("data") / "nlu"
# Rasa reads «[text](entity)» and «[text]{...}» in an example as annotations.
_MARKUP = re.compile(r"[\[\]{}]")

# Russian names for the contract's intents and FAQ keys (shared/docs/intents.md).
LABELS_RU = {
    "greet": "приветствие",
    "goodbye": "прощание",
    "thank": "благодарность",
    "affirm": "согласие («да»)",
    "deny": "отказ («нет»)",
    "bot_challenge": "«вы бот?»",
    "out_of_scope": "не о госуслугах",
    "ask_service_info": "об услуге: документы, сроки, как подать",
    "ask_registration_help": "регистрация и подтверждение учётной записи",
    "ask_login_help": "не получается войти",
    "report_tech_issue": "сбой портала или приложения",
    "check_application_status": "статус заявления",
    "inform": "сообщает данные (номер, дату, ФИО)",
    "request_operator": "просит оператора",
    "book_mfc_visit": "визит в МФЦ",
    "report_fraud": "мошенничество",
    "leave_feedback": "отзыв или жалоба",
    "cancel": "отмена",
    "return_to_bot": "вернуться к боту",
    "faq/hotline_number": "FAQ: номер горячей линии",
    "faq/working_hours": "FAQ: часы работы",
    "faq/cost": "FAQ: стоимость звонка",
    "faq/contact_channels": "FAQ: другие способы связи",
    "faq/online_chat": "FAQ: онлайн-чат",
    "faq/email": "FAQ: электронная почта",
    "faq/call_preparation": "FAQ: что подготовить к звонку",
    "faq/personal_data_protection": "FAQ: защита персональных данных",
    "faq/application_number_format": "FAQ: как выглядит номер заявления",
    "faq/how_to_ask": "FAQ: как задать вопрос",
    "faq/wait_time": "FAQ: сколько ждать ответа",
    "faq/accessibility": "FAQ: помощь людям с инвалидностью",
    "faq/security_tips": "FAQ: безопасность",
    "faq/knowledge_base": "FAQ: база знаний",
    "application_number": "номер заявления",
    "birth_date": "дата рождения",
    "snils": "СНИЛС",
    "service": "услуга",
    "full_name": "ФИО",
    "rating": "оценка",
}


class LabelRefused(ValueError):
    """The example cannot be written; str() is the message for the trainer."""


@dataclass(frozen=True)
class Span:
    text: str
    entity: str


@dataclass(frozen=True)
class Written:
    path: str  # relative to the repository root
    intent: str
    line: str  # the line as written, annotations included


# --- what may be chosen ---------------------------------------------------------------


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def label_choices(root: Path = ROOT) -> List[Tuple[str, str]]:
    """(value, Russian label) for the label select: the domain's intents
    (faq as its keys; nlu_fallback is not a label) in the domain's order."""
    domain = _load(root / "domain.yml")
    keys = sorted(name[len("utter_"):] for name in (domain.get("responses") or {})
                  if name.startswith("utter_faq/"))
    out = []
    for intent in domain.get("intents") or []:
        name = intent if isinstance(intent, str) else next(iter(intent))
        if name == "nlu_fallback":
            continue
        if name == "faq":
            out.extend((key, LABELS_RU.get(key, key)) for key in keys)
        else:
            out.append((name, LABELS_RU.get(name, name)))
    return out


def entity_choices(root: Path = ROOT) -> List[Tuple[str, str]]:
    domain = _load(root / "domain.yml")
    names = [e if isinstance(e, str) else next(iter(e)) for e in domain.get("entities") or []]
    return [(name, LABELS_RU.get(name, name)) for name in names]


# --- the data files ---------------------------------------------------------------------


def _examples_of(block: dict) -> List[str]:
    return [line[2:].strip() for line in str(block.get("examples") or "").splitlines()
            if line.strip().startswith("- ")]


def _intent_files(root: Path) -> Dict[str, List[Tuple[int, Path]]]:
    """intent -> [(number of examples, file)] over data/nlu/*.yml."""
    found: Dict[str, List[Tuple[int, Path]]] = {}
    for path in sorted((root / NLU_DIR).glob("*.yml")):
        for block in _load(path).get("nlu") or []:
            if isinstance(block, dict) and "intent" in block:
                found.setdefault(block["intent"], []).append((len(_examples_of(block)), path))
    return found


def target_file(intent: str, root: Path = ROOT) -> Path:
    """The file that holds most of the intent's examples."""
    files = _intent_files(root).get(intent)
    if not files:
        raise LabelRefused(f"В обучающих данных нет блока для «{intent}»: выберите другое намерение.")
    return max(files, key=lambda f: (f[0], -len(str(f[1]))))[1]


@lru_cache(maxsize=8)
def _folded_examples(path: str, mtime: float) -> Tuple[Tuple[str, str], ...]:
    """(folded example, intent) of one file, cached until the file changes."""
    out = []
    for block in _load(Path(path)).get("nlu") or []:
        if isinstance(block, dict) and "intent" in block:
            out.extend((plain(e), block["intent"]) for e in _examples_of(block))
    return tuple(out)


def _folded(paths: Iterable[Path]) -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []
    for path in paths:
        if path.exists():
            out.extend(_folded_examples(str(path), path.stat().st_mtime_ns))
    return out


# --- checks -------------------------------------------------------------------------------


def annotate(text: str, spans: Sequence[Span], entities: Iterable[str]) -> str:
    """The example line with «[span](entity)» markup; each span is the first
    occurrence of its text not inside an earlier span."""
    allowed = set(entities)
    taken: List[Tuple[int, int, str]] = []
    for span in spans:
        span_text = span.text.strip()
        if not span_text:
            continue
        if span.entity not in allowed:
            raise LabelRefused(f"Неизвестная сущность «{span.entity}».")
        start = -1
        search = 0
        while True:
            start = text.find(span_text, search)
            if start < 0 or all(start >= e or start + len(span_text) <= s for s, e, _ in taken):
                break
            search = start + 1
        if start < 0:
            raise LabelRefused(f"Фрагмента «{span_text}» нет в тексте примера: "
                               "скопируйте его из текста точно, с теми же буквами.")
        taken.append((start, start + len(span_text), span.entity))
    out, last = [], 0
    for start, end, entity in sorted(taken):
        out.append(text[last:start])
        out.append(f"[{text[start:end]}]({entity})")
        last = end
    out.append(text[last:])
    return "".join(out)


def check_text(text: str) -> str:
    """The example text, normalised to one line, or LabelRefused."""
    text = " ".join((text or "").split())
    if not text:
        raise LabelRefused("Текст примера пустой.")
    if len(text) > MAX_CHARS:
        raise LabelRefused(f"Пример длиннее {MAX_CHARS} символов: сократите его до сути вопроса.")
    if MASK in text:
        raise LabelRefused("В тексте осталась маска «***» на месте персональных данных: "
                           "уберите её или перепишите фразу без этих данных.")
    if mask_free_text(text) != text:
        raise LabelRefused("В тексте есть то, что похоже на персональные данные (дата, СНИЛС, номер телефона "
                           "или заявления, имя): в обучающие данные они не записываются. Уберите их из текста.")
    if _MARKUP.search(text):
        raise LabelRefused("Квадратные и фигурные скобки в тексте примера недопустимы: "
                           "Rasa читает их как разметку сущностей.")
    return text


def check_new(text: str, root: Path = ROOT) -> None:
    """Refuse an example the data checks would reject."""
    folded = plain(text)
    if not folded:
        raise LabelRefused("В примере нет ни одного слова.")
    for example, intent in _folded(sorted((root / NLU_DIR).glob("*.yml"))):
        if example == folded:
            raise LabelRefused(f"Такой пример уже есть в обучающих данных (намерение «{intent}»).")
    for example, intent in _folded([root / HELD_OUT]):
        if near_copy(folded, example):
            raise LabelRefused(
                f"Пример почти совпадает с фразой из контрольного набора tests/nlu_heldout.yml "
                f"(«{intent}»). Контрольные фразы не попадают в обучение, иначе проверка качества "
                f"перестанет что-либо проверять. Выберите другое сообщение или перепишите его другими словами.")


# --- the edit ------------------------------------------------------------------------------


def _insert_example(source: str, intent: str, line: str) -> str:
    """`source` with `line` appended to the intent's examples block."""
    lines = source.splitlines(keepends=True)
    header = re.compile(rf"^(\s*)-\s+intent:\s*[\"']?{re.escape(intent)}[\"']?\s*(#.*)?$")
    for i, text in enumerate(lines):
        match = header.match(text.rstrip("\r\n"))
        if not match:
            continue
        block_indent = len(match.group(1))
        # The block's keys, up to the next list item at the block's indentation.
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            indent = len(lines[j]) - len(lines[j].lstrip())
            if stripped and indent <= block_indent and not stripped.startswith("#"):
                break
            key = re.match(r"^(\s*)examples:\s*\|[-+]?\s*(#.*)?$", lines[j].rstrip("\r\n"))
            if key:
                key_indent = len(key.group(1))
                last, item_indent = j, None
                k = j + 1
                while k < len(lines):
                    body = lines[k]
                    if body.strip() and len(body) - len(body.lstrip()) <= key_indent:
                        break
                    if body.strip():
                        last = k
                        if item_indent is None and body.lstrip().startswith("- "):
                            item_indent = len(body) - len(body.lstrip())
                    k += 1
                item_indent = item_indent if item_indent is not None else key_indent + 2
                newline = "\r\n" if lines[last].endswith("\r\n") else "\n"
                if not lines[last].endswith(("\n", "\r\n")):
                    lines[last] += newline
                lines.insert(last + 1, " " * item_indent + "- " + line + newline)
                return "".join(lines)
            j += 1
        raise LabelRefused(f"У «{intent}» в файле нет блока examples: добавьте пример вручную.")
    raise LabelRefused(f"В файле нет блока «{intent}».")


def _all_examples(document: dict) -> List[Tuple[str, str]]:
    return [(block["intent"], e) for block in document.get("nlu") or []
            if isinstance(block, dict) and "intent" in block for e in _examples_of(block)]


def add_example(intent: str, text: str, spans: Sequence[Span] = (), root: Path = ROOT) -> Written:
    """Check and write one labelled example; LabelRefused with the reason
    otherwise. The file is read and replaced through workbench.files under
    its lock; a change made meanwhile by anyone else (another process, git,
    an editor) raises its EditConflict, which the caller reports."""
    valid = {value for value, _ in label_choices(root)}
    if intent not in valid:
        raise LabelRefused("Выберите намерение или ключ FAQ из списка.")
    text = check_text(text)
    line = annotate(text, spans, (name for name, _ in entity_choices(root)))
    path = target_file(intent, root)
    shown = str(path.relative_to(root))
    # One writer at a time across all NLU files, not only this one: the
    # duplicate check reads every file, and the same text sent under two
    # intents at once would otherwise land in two files with two labels.
    with _WRITING, files.lock_for(path):
        check_new(text, root)
        source, version = files.read(path)
        updated = _insert_example(source, intent, line)
        before, after = _all_examples(yaml.safe_load(source) or {}), _all_examples(yaml.safe_load(updated) or {})
        if sorted(after) != sorted(before + [(intent, line)]):
            # The text edit did not do what was meant (an unusual layout):
            # refuse rather than write a file whose data changed in other ways.
            raise LabelRefused(f"Не удалось аккуратно добавить пример в {shown}: добавьте его вручную.")
        files.write(path, updated, version, shown_as=shown)
    return Written(shown, intent, line)
