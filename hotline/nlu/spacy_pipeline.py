"""A Russian spaCy pipeline that needs no downloaded model.

spaCy's own Russian lemmatiser only lemmatises tokens that already carry a
part-of-speech tag, and a blank pipeline has no tagger, so it would return
every word unchanged. This component asks pymorphy3 for both the lemma and
the part of speech instead. It is registered under the ``spacy_factories``
entry point (see pyproject.toml), so ``spacy.load(path)`` finds it in any
process — including Rasa's SpacyNLP — without importing this module first.

Build the pipeline with ``python -m hotline.nlu.spacy_pipeline PATH``.
"""


import argparse
import sys
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from hotline.nlu import morph

FACTORY_NAME = "hotline_pymorphy_lemmatizer"
DEFAULT_PATH = Path("models") / "spacy_ru"


class PymorphyLemmatizer:
    """Sets ``lemma_``, ``pos_`` and ``tag_`` of every word token."""

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            if token.is_alpha:
                lemma, pos = morph.analyse(token.lower_)
                token.lemma_ = lemma
                token.pos_ = pos
                token.tag_ = pos
            elif token.is_digit or token.like_num:
                token.lemma_ = token.text
                token.pos_ = "NUM"
                token.tag_ = "NUM"
            else:
                token.lemma_ = token.lower_
                token.pos_ = "PUNCT" if token.is_punct else "X"
                token.tag_ = token.pos_
        return doc


@Language.factory(FACTORY_NAME)
def create_lemmatizer(nlp: Language, name: str) -> PymorphyLemmatizer:
    return PymorphyLemmatizer()


def build(path: Path = DEFAULT_PATH) -> Path:
    """Create the pipeline and save it where config.yml's SpacyNLP expects it."""
    nlp = spacy.blank("ru")
    nlp.add_pipe(FACTORY_NAME)
    nlp.meta["name"] = "hotline_ru"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank spaCy ru tokenizer + pymorphy3 lemmas (no download)"
    path.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    out = build(args.path)
    print(f"spaCy ru pipeline saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
