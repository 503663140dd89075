"""A reviewed conversation as a Rasa story: a test story for
tests/test_stories.yml (the citizen's masked words as `user:` lines with
their intent) or a training story for data/stories/ (intents only).

The trainer may correct the intent of any user turn and the expected action
of any bot action. The story is appended as text at the end of the file's
`stories:` list, so the file keeps its order and comments; the result is
parsed again and must hold exactly the old stories plus this one.

Personal data never enters a file: a turn whose text was masked (or is a
button's «/intent» payload) becomes an `intent:` step without `user:` (the
dialogue is still tested, the NLU not on that turn), slot values that were
masked are left out, and the written text is checked once more against the
masking rules before anything is returned.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set

import yaml

from hotline.privacy import MASK, PERSONAL_ENTITIES, PERSONAL_SLOTS, mask_transcript
from workbench.review import Step

TEST_STORIES = "tests/test_stories.yml"
STORIES_DIR = "data/stories"
NEW_FILE_HEADER = 'version: "3.1"\nstories:\n'
MAX_NAME = 120
_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}$")
# Rasa's own actions a story may name.
DEFAULT_ACTIONS = frozenset({
    "action_restart", "action_default_fallback", "action_deactivate_loop", "action_revert_fallback_events",
    "action_default_ask_affirmation", "action_default_ask_rephrase", "action_two_stage_fallback",
    "action_back", "action_unlikely_intent", "action_extract_slots",
})
# Steps a story never spells out.
SKIPPED_ACTIONS = frozenset({"action_unlikely_intent", "action_extract_slots"})


class StoryError(Exception):
    """A story refused; the message is Russian and says what to fix."""


@dataclass(frozen=True)
class DomainInfo:
    intents: Set[str]
    faq_keys: Set[str]
    actions: Set[str]
    featurized_slots: Set[str]

    @classmethod
    def from_text(cls, domain_text: str) -> "DomainInfo":
        data = yaml.safe_load(domain_text) or {}
        intents = set()
        for item in data.get("intents") or []:
            intents.add(next(iter(item)) if isinstance(item, dict) else str(item))
        responses = set((data.get("responses") or {}).keys())
        faq_keys = {name.split("/", 1)[1] for name in responses if name.startswith("utter_faq/")}
        retrieval_actions = {name.split("/", 1)[0] for name in responses if "/" in name}  # utter_faq
        actions = set(data.get("actions") or []) | responses | retrieval_actions | set(data.get("forms") or {})
        slots = data.get("slots") or {}
        featurized = {name for name, slot in slots.items()
                      if (slot or {}).get("influence_conversation", True) and name not in PERSONAL_SLOTS}
        return cls(intents=intents, faq_keys=faq_keys, actions=actions | DEFAULT_ACTIONS,
                   featurized_slots=featurized | {"requested_slot"})

    def valid_intent(self, name: str) -> bool:
        if name in self.intents:
            return True
        base, _, key = name.partition("/")
        return bool(key) and base == "faq" and key in self.faq_keys

    def intent_choices(self) -> List[str]:
        return sorted(self.intents - {"nlu_fallback"}) + sorted("faq/" + k for k in self.faq_keys)

    def action_choices(self) -> List[str]:
        return sorted(self.actions - SKIPPED_ACTIONS)


def _quote(value: Any) -> str:
    """A YAML scalar for a slot value or a name: JSON is valid YAML."""
    return json.dumps(value, ensure_ascii=False)


def _clean(text: str) -> str:
    return "\n".join(line.strip() for line in text.replace("\r", "").split("\n") if line.strip())


def build_steps(steps: Sequence[Step], domain: DomainInfo, intents: Mapping[int, str],
                actions: Mapping[int, str], with_text: bool) -> List[str]:
    """The story's `steps:` lines (indented for a top-level story item).

    `intents` and `actions` are the trainer's corrections, by position in
    `steps`."""
    lines: List[str] = []
    has_user = False
    for i, step in enumerate(steps):
        if step.kind == "user":
            intent = (intents.get(i) or step.intent or "").strip()
            if not domain.valid_intent(intent) or intent == "nlu_fallback":
                raise StoryError(f"Реплика {_quoted_preview(step)}: выберите намерение из списка "
                                 f"(«{intent or 'нет'}» не подходит для истории).")
            text = _clean(step.text)
            if with_text and text and not step.has_mask and not text.startswith("/"):
                lines.append("  - user: |")
                lines.extend("      " + line for line in text.split("\n"))
                lines.append(f"    intent: {intent}")
            else:
                lines.append(f"  - intent: {intent}")
                entities = [(n, v) for n, v in step.entities
                            if n not in PERSONAL_ENTITIES and MASK not in v and not with_text]
                if entities:
                    lines.append("    entities:")
                    lines.extend(f"    - {name}: {_quote(value)}" for name, value in entities)
            has_user = True
        elif step.kind == "action":
            action = (actions.get(i) or step.action or "").strip()
            # A story names the retrieval action (utter_faq); the key is the
            # ResponseSelector's business.
            action = action.split("/", 1)[0]
            if action in SKIPPED_ACTIONS:
                continue
            if action not in domain.actions:
                raise StoryError(f"Действие «{action}» не найдено в domain.yml; выберите его из списка.")
            lines.append(f"  - action: {action}")
        elif step.kind == "loop":
            lines.append(f"  - active_loop: {step.action if step.action else 'null'}")
        elif step.kind == "slot" and step.slot in domain.featurized_slots:
            value = step.value
            if isinstance(value, str) and MASK in value or not isinstance(value, (str, int, float, bool, type(None))):
                continue
            lines.append("  - slot_was_set:")
            lines.append(f"    - {step.slot}: {'null' if value is None else _quote(value)}")
    if not has_user:
        raise StoryError("В этой части разговора нет ни одной реплики пользователя: историю не из чего составить.")
    return lines


def _quoted_preview(step: Step) -> str:
    text = step.text if len(step.text) <= 40 else step.text[:40] + "…"
    return f"«{text}»"


def render(name: str, step_lines: Sequence[str]) -> str:
    return "\n".join([f"- story: {_quote(name)}", "  steps:", *step_lines]) + "\n"


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise StoryError("Дайте истории название: по нему её найдут в отчёте о тестах.")
    if len(name) > MAX_NAME:
        raise StoryError(f"Название слишком длинное: не больше {MAX_NAME} символов.")
    return name


def _no_personal_data(text: str) -> None:
    masked = mask_transcript([{"who": "user", "text": text}])[0]["text"]
    if MASK in text or masked != text:
        raise StoryError("В истории остались персональные данные или маска «***»; такую историю записать нельзя. "
                         "Проверьте название истории.")


def _stories(text: str) -> List[Dict[str, Any]]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise StoryError("Файл историй не читается как YAML; исправьте его вручную.") from exc
    stories = data.get("stories") if isinstance(data, dict) else None
    if stories is None:
        return []
    if not isinstance(stories, list):
        raise StoryError("В файле историй раздел stories записан не списком; исправьте файл вручную.")
    return stories


def append_story(file_text: Optional[str], name: str, step_lines: Sequence[str]) -> str:
    """The file with the story appended (a new file when `file_text` is None)."""
    name = check_name(name)
    block = render(name, step_lines)
    _no_personal_data(block)
    base = NEW_FILE_HEADER if file_text is None or not file_text.strip() else file_text
    before = _stories(base)
    if any(isinstance(s, dict) and s.get("story") == name for s in before):
        raise StoryError(f"История «{name}» в этом файле уже есть: дайте другое название.")
    if not base.endswith("\n"):
        base += "\n"
    separator = "" if base.endswith(NEW_FILE_HEADER) and not before else "\n"
    result = base + separator + block
    after = _stories(result)
    if after[:-1] != before or len(after) != len(before) + 1 or after[-1].get("story") != name:
        raise StoryError("Историю не удалось аккуратно дописать в конец файла (после stories идёт другой "
                         "раздел?). Добавьте её вручную.")
    return result


def story_file(name: str) -> str:
    """data/stories/<name>.yml for a file name the trainer typed or chose."""
    stem = (name or "").strip().lower()
    if stem.endswith(".yml"):
        stem = stem[:-4]
    if not _FILE_NAME.match(stem):
        raise StoryError("Имя файла: латинские буквы, цифры, «-» и «_», например «new_questions».")
    return f"{STORIES_DIR}/{stem}.yml"


def existing_story_files(names: Iterable[str]) -> List[str]:
    return sorted(n for n in names if n.endswith(".yml"))
