"""Training data and domain keep the NLU contract and stay consistent."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, load_yaml
from hotline.nlu.examples import near_copy, plain
from hotline.services import SERVICE_NAMES

CONTRACT = ROOT.parent / "shared" / "docs" / "intents.md"


def _contract_names(section: str) -> list[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", body, flags=re.M)


def _examples(files) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        for block in load_yaml(path).get("nlu", []):
            if "intent" in block:
                lines = [l[2:].strip() for l in block["examples"].splitlines() if l.startswith("- ")]
                found.setdefault(block["intent"], []).extend(lines)
    return found


TRAINING = _examples(sorted((ROOT / "data" / "nlu").glob("*.yml")))
HELD_OUT = _examples([ROOT / "tests" / "nlu_heldout.yml"])


def test_contract_names_are_in_domain_and_data(domain_yaml):
    # ../shared sits beside every clone (CI, main, every worktree): its
    # absence is a broken checkout, not a reason to drop the contract check.
    assert CONTRACT.exists(), f"the NLU contract {CONTRACT} is missing: clone shared/ beside the repository"
    intents = set(domain_yaml["intents"])
    for intent in _contract_names("Intents"):
        assert intent in intents, intent
        if intent not in ("faq", "nlu_fallback"):
            assert len(TRAINING.get(intent, [])) >= 25, intent
    for key in _contract_names("FAQ sub-intents (`faq/<key>`)"):
        assert len(TRAINING.get(key, [])) >= 10, key
        assert f"utter_{key}" in domain_yaml["responses"], key
    for entity in _contract_names("Entities"):
        assert entity in domain_yaml["entities"], entity


def test_held_out_set_covers_every_intent_and_key_with_enough_utterances():
    assert sum(len(v) for v in HELD_OUT.values()) >= 450
    assert set(HELD_OUT) == set(TRAINING), set(HELD_OUT) ^ set(TRAINING)
    thin = {name: len(v) for name, v in HELD_OUT.items() if len(v) < 10}
    assert not thin, f"held-out intents/FAQ keys with fewer than 10 utterances: {thin}"


def test_held_out_set_has_no_near_copies_of_training_examples():
    """A held-out utterance that is a training example with one word more or
    less tests memory, not understanding, and flatters the accuracy gate."""
    training = [(plain(e), intent, e) for intent, examples in TRAINING.items() for e in examples]
    leaked = []
    for intent, examples in HELD_OUT.items():
        for example in examples:
            folded = plain(example)
            copies = [f"{i}: {e!r}" for p, i, e in training if near_copy(folded, p)]
            if copies:
                leaked.append(f"{intent}: {example!r} ~ {copies[0]}")
    assert not leaked, "held-out utterances too close to training examples " \
                       "(rewrite them in other words):\n" + "\n".join(leaked)


def test_near_copy_rule_catches_one_word_and_small_edits():
    assert near_copy(plain("сколько ждать ответа оператора"), plain("сколько ждать ответа"))
    assert near_copy(plain("Где найти номер своей заявки?"), plain("где найти номер заявки"))
    assert near_copy(plain("как чётко сформулировать вопрос"), plain("как четко сформулировать вопрос"))
    assert near_copy(plain("смс с кодом не приходит уже полчаса"), plain("смс с кодом не приходит уже час"))
    assert not near_copy(plain("сколько ждать ответа на письмо"), plain("сколько ждать ответа"))
    assert not near_copy(plain("как записаться в мфц"), plain("как записаться к врачу"))


def test_training_examples_are_not_repeated():
    """One phrase once: «в 23 00 ещё можно звонить» and «в 23 00 еще можно
    звонить» teach nothing new, even inside one intent."""
    seen: dict[str, str] = {}
    repeated = []
    for intent, examples in TRAINING.items():
        for example in examples:
            folded = plain(example)
            if folded in seen:
                repeated.append(f"{intent}: {example!r} repeats {seen[folded]}")
            seen.setdefault(folded, f"{intent}: {example!r}")
    assert not repeated, "\n".join(repeated)


def test_no_example_carries_two_labels():
    labels: dict[str, set] = {}
    for intent, examples in TRAINING.items():
        for example in examples:
            labels.setdefault(plain(example), set()).add(intent)
    assert {e: l for e, l in labels.items() if len(l) > 1} == {}


def test_service_lookup_synonyms_and_catalogue_agree():
    blocks = load_yaml(ROOT / "data" / "nlu" / "services.yml")["nlu"]
    lookup = {l[2:].strip() for b in blocks if b.get("lookup") == "service" for l in b["examples"].splitlines() if l.startswith("- ")}
    synonyms = {}
    for b in blocks:
        if "synonym" in b:
            for l in b["examples"].splitlines():
                if l.startswith("- "):
                    assert l[2:].strip() not in synonyms, f"{l} maps twice"
                    synonyms[l[2:].strip()] = b["synonym"]
    assert lookup == set(synonyms), lookup ^ set(synonyms)
    assert set(synonyms.values()) == set(SERVICE_NAMES)
    assert len(SERVICE_NAMES) >= 25


def test_rasa_data_validate_has_no_warnings():
    result = subprocess.run([sys.executable, "scripts/validate.py"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
