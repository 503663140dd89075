"""Project NLU helpers that need no trained model."""
from __future__ import annotations

import pytest

from hotline.nlu import morph
from hotline.nlu.meaningless_guard import Vocabulary, has_known_word
from hotline.nlu.translit import to_cyrillic


@pytest.mark.parametrize("latin,cyrillic", [("privet", "привет"), ("zdravstvuyte", "здравствуйте"),
                                            ("spasibo", "спасибо"), ("dobryy", "добрый")])
def test_transliteration_back_to_cyrillic(latin, cyrillic):
    assert to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize("text", ["ывапролдж фыва", "ккк", "🙂🙏🔥", "...", "", "qwertyuiop asdf"])
def test_no_real_word(text):
    assert not has_known_word(text)


@pytest.mark.parametrize("text", ["как дела", "zdravstvuyte", "хм"])
def test_real_words(text):
    assert has_known_word(text)


def test_training_vocabulary_counts_as_known_with_one_typo():
    vocabulary = Vocabulary(["мфц", "здраствуйте", "пасибо", "спасибо"])
    assert not has_known_word("мфц")
    assert has_known_word("мфц", vocabulary)
    assert has_known_word("здрастуйте", vocabulary)  # a letter missing
    assert has_known_word("пасиба", vocabulary)  # a letter changed
    assert has_known_word("спасибоо", vocabulary)  # a letter added
    assert not has_known_word("ывапролдж", vocabulary)
    assert not has_known_word("мфх", vocabulary)  # too short to forgive


def test_lemmas_fold_inflection_and_yo():
    assert morph.lemmatize_phrase("загранпаспорта водительского удостоверения") == (
        "загранпаспорт", "водительский", "удостоверение")
    assert morph.lemma("учётной") == morph.lemma("учетной")
