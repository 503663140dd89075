"""The held-out NLU figures: one definition for the tests (tests/nlu), the
benchmark (bench/nlu.py) and the trainers' workbench (workbench/evaluate.py).

A model is run once over tests/nlu_heldout.yml (``predict``); every figure is
then computed from those predictions, so the workbench can keep them as JSON
and compare two models without loading either again.

Definitions (the ones README «Качество NLU» and docs/TRAINING.md quote):

* intent accuracy — the share of utterances whose intent is right (an FAQ
  question counts as right when the intent is ``faq``, whatever the key);
* macro-F1 — the mean F1 over every label that was expected or predicted, so
  an intent the model predicts for others' questions (``nlu_fallback``
  included) pulls the average down too;
* FAQ-key accuracy — over the ``faq/<key>`` utterances, the share whose
  intent is ``faq`` *and* whose selected key is right.
"""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from hotline.paths import ROOT

HELD_OUT = ROOT / "tests" / "nlu_heldout.yml"
FAQ = "faq"


@dataclass(frozen=True)
class Prediction:
    text: str
    intent: str
    key: Optional[str]            # «faq/<key>» for an FAQ question, else None
    predicted: str
    predicted_key: Optional[str]  # the response selector's key, when it chose one
    confidence: float = 0.0
    ms: float = 0.0               # parse time

    @property
    def correct(self) -> bool:
        return self.intent == self.predicted

    @property
    def faq_hit(self) -> bool:
        return self.predicted == FAQ and self.predicted_key == self.key

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Prediction":
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


def held_out_examples(path: Path = HELD_OUT) -> List[Tuple[str, str, Optional[str]]]:
    """(text, intent, FAQ key) of every held-out utterance, in file order."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(e.get("text"), e.get("intent"), e.get("intent_response_key"))
            for e in load_data(str(path)).intent_examples]


def prediction(text: str, intent: str, key: Optional[str], result: Dict[str, Any], ms: float = 0.0) -> Prediction:
    """One Prediction from Rasa's parse result."""
    selected = (result.get("response_selector", {}).get(FAQ, {}).get("response", {})
                .get("intent_response_key"))
    found = result.get("intent") or {}
    return Prediction(text, intent, key, found.get("name") or "", selected,
                      round(float(found.get("confidence") or 0.0), 4), round(ms, 2))


def predict(parse: Callable[[str], Dict[str, Any]],
            examples: Iterable[Tuple[str, str, Optional[str]]]) -> List[Prediction]:
    """Run ``parse`` (text → Rasa's parse result) over the examples, timed."""
    rows = []
    for text, intent, key in examples:
        started = time.perf_counter()
        result = parse(text)
        rows.append(prediction(text, intent, key, result, (time.perf_counter() - started) * 1000))
    return rows


def archive_parser(model: Path) -> Callable[[str], Dict[str, Any]]:
    """A synchronous parse function over a model archive, warmed up (the first
    parse loads lazy parts and would be timed otherwise)."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parse at debug level; printing it would be timed too.
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    def parse(text: str) -> Dict[str, Any]:
        return loop.run_until_complete(agent.parse_message(text))

    parse("прогрев")
    return parse


# --- figures -----------------------------------------------------------------

def scores(rows: Sequence[Prediction], label: str) -> Dict[str, float]:
    """Precision, recall, F1 and support of one intent."""
    tp = sum(1 for r in rows if r.intent == label and r.predicted == label)
    fp = sum(1 for r in rows if r.intent != label and r.predicted == label)
    fn = sum(1 for r in rows if r.intent == label and r.predicted != label)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def labels(rows: Sequence[Prediction]) -> List[str]:
    """Every intent expected or predicted, expected ones first (sorted), then
    the ones only predicted (``nlu_fallback``)."""
    expected = sorted({r.intent for r in rows})
    return expected + sorted({r.predicted for r in rows} - set(expected))


def intent_accuracy(rows: Sequence[Prediction]) -> float:
    return sum(r.correct for r in rows) / len(rows) if rows else 0.0


def macro_f1(rows: Sequence[Prediction]) -> float:
    names = labels(rows)
    return sum(scores(rows, n)["f1"] for n in names) / len(names) if names else 0.0


def faq_key_hits(rows: Sequence[Prediction]) -> Dict[str, List[bool]]:
    """Per FAQ key, whether each of its questions got intent ``faq`` and that key."""
    hits: Dict[str, List[bool]] = {}
    for r in rows:
        if r.intent == FAQ:
            hits.setdefault(r.key or "", []).append(r.faq_hit)
    return hits


def faq_key_accuracy(rows: Sequence[Prediction]) -> float:
    hits = [h for keyed in faq_key_hits(rows).values() for h in keyed]
    return sum(hits) / len(hits) if hits else 0.0


def per_intent(rows: Sequence[Prediction]) -> Dict[str, Dict[str, float]]:
    return {name: scores(rows, name) for name in labels(rows)}


def confusion(rows: Sequence[Prediction]) -> Tuple[List[str], List[List[int]]]:
    """Labels and counts: matrix[i][j] = utterances of labels[i] predicted as labels[j]."""
    names = labels(rows)
    index = {n: i for i, n in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for r in rows:
        matrix[index[r.intent]][index[r.predicted]] += 1
    return names, matrix


def outcome(r: Prediction) -> Tuple[str, str]:
    """(expected, got) at the finest level: the FAQ key for FAQ questions."""
    expected = r.key if r.intent == FAQ and r.key else r.intent
    got = r.predicted_key if r.predicted == FAQ and r.predicted_key else r.predicted
    return expected, got


def confused_pairs(rows: Sequence[Prediction], limit: int = 10,
                   examples: int = 3) -> List[Dict[str, Any]]:
    """The most frequent (expected → predicted) mistakes, FAQ keys told apart,
    each with up to ``examples`` of its utterances."""
    found: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    for r in rows:
        expected, got = outcome(r)
        if expected != got:
            found[(expected, got)].append(r.text)
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    return [{"expected": e, "predicted": p, "count": len(texts), "examples": texts[:examples]}
            for (e, p), texts in ranked]


def weakest(rows: Sequence[Prediction], n: int = 5) -> Dict[str, List[List[Any]]]:
    """The n intents with the lowest F1 and the n FAQ keys with the lowest
    accuracy: an average hides the one intent a data edit broke."""
    intents = sorted((round(scores(rows, e)["f1"], 3), e) for e in {r.intent for r in rows})[:n]
    accuracy = {k: sum(h) / len(h) for k, h in faq_key_hits(rows).items()}
    faq = sorted((round(a, 3), k) for k, a in accuracy.items())[:n]
    return {"weakest_intents": [[e, s] for s, e in intents], "weakest_faq_keys": [[k, a] for a, k in faq]}


def summary(rows: Sequence[Prediction]) -> Dict[str, Any]:
    return {"examples": len(rows), "intent_accuracy": intent_accuracy(rows),
            "macro_f1": macro_f1(rows), "faq_key_accuracy": faq_key_accuracy(rows)}
