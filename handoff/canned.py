"""Canned answers for operators: the bot's own reference answers
(``utter_faq/<key>`` in domain.yml), with the contact placeholders filled the
way the bot fills them (slot defaults, overridden from the environment)."""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Dict, List

import yaml

from handoff.contacts import contact_overrides
from handoff.config import ROOT

TITLES = {
    "hotline_number": "Номер горячей линии",
    "working_hours": "Часы работы",
    "cost": "Стоимость звонка",
    "contact_channels": "Другие способы связи",
    "online_chat": "Онлайн-чат",
    "email": "Электронная почта",
    "call_preparation": "Подготовка к звонку",
    "personal_data_protection": "Защита персональных данных",
    "application_number_format": "Номер заявления",
    "how_to_ask": "Как сформулировать вопрос",
    "wait_time": "Время ожидания",
    "accessibility": "Доступность для людей с ОВЗ",
    "security_tips": "Безопасность",
    "knowledge_base": "База знаний",
}


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> List[Dict[str, str]]:
    domain = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    values = {name: str(slot.get("initial_value")) for name, slot in (domain.get("slots") or {}).items()
              if slot.get("initial_value") is not None}
    values.update(contact_overrides())
    answers = []
    for name, variations in (domain.get("responses") or {}).items():
        if not name.startswith("utter_faq/") or not variations:
            continue
        key = name.split("/", 1)[1]
        text = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), variations[0].get("text", ""))
        answers.append({"key": key, "title": TITLES.get(key, key), "text": text.strip()})
    return sorted(answers, key=lambda a: a["title"])


def canned_answers(domain_path: Path = ROOT / "domain.yml") -> List[Dict[str, str]]:
    return _load(str(domain_path), domain_path.stat().st_mtime)
