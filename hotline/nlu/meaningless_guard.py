"""Send messages without a single real word to the fallback.

DIET always picks the nearest intent, often with high confidence, even for
«ккк», «🙂🙂🙂» or a keyboard mash, so the FallbackClassifier threshold alone
does not catch them. A message counts as meaningful when it has an entity or
at least one word that pymorphy knows — directly, or after transliteration
for messages typed in Latin letters («zdravstvuyte») — or a word of the
training data, allowing one typo («здрастуйте», «пасиба», «спсб»).
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Set

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline.nlu.morph import analyzer
from hotline.nlu.json_state import JsonStateComponent
from hotline.nlu.translit import to_cyrillic

FALLBACK_INTENT = "nlu_fallback"
# Shorter words are too easily one typo away from anything.
MIN_FUZZY_LENGTH = 4


def words(text: str) -> List[str]:
    return re.findall(r"[^\W\d_]{2,}", text.lower().replace("ё", "е"))


def deletions(word: str) -> Set[str]:
    """The word with one letter removed, every way: two words within one
    edit of each other share a deletion or contain one another's (the
    symmetric-delete trick, no distance computation needed)."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Vocabulary:
    def __init__(self, known: Iterable[str] = ()) -> None:
        self.words = frozenset(known)
        self._deletions = {d for w in self.words if len(w) >= MIN_FUZZY_LENGTH for d in deletions(w)}

    def __contains__(self, word: str) -> bool:
        if word in self.words:
            return True
        if len(word) < MIN_FUZZY_LENGTH:
            return False
        candidates = deletions(word)
        return word in self._deletions or bool(candidates & self.words) or bool(candidates & self._deletions)


def has_known_word(text: str, vocabulary: Optional[Vocabulary] = None) -> bool:
    vocabulary = vocabulary or Vocabulary()
    for word in words(text):
        candidate = to_cyrillic(word) if re.fullmatch(r"[a-z]+", word) else word
        if word in vocabulary or candidate in vocabulary or analyzer().word_is_known(candidate):
            return True
    return False


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class MeaninglessMessageGuard(JsonStateComponent):
    FILE_NAME = "vocabulary.json"

    def set_state(self, state: Optional[List[str]]) -> None:
        self.vocabulary = Vocabulary(state or [])

    def train(self, training_data: TrainingData) -> Resource:
        known = sorted({w for m in training_data.training_examples for w in words(m.get(TEXT) or "")})
        self.set_state(known)
        return self.persist(known)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or message.get(ENTITIES) or has_known_word(text, self.vocabulary):
                continue
            intent = {"name": FALLBACK_INTENT, "confidence": 1.0}
            ranking = [intent] + [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK_INTENT]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
