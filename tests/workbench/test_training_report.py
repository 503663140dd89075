"""The training report's figures on a small set worked out by hand, the
comparison with the running model, and the confusion-matrix picture."""
from __future__ import annotations

import pytest

from hotline import heldout
from hotline.heldout import Prediction
from workbench import evaluate


def P(intent, predicted, key=None, predicted_key=None, text=None):  # noqa: N802 — reads like a table row
    return Prediction(text or f"{intent}->{predicted}", intent, key, predicted, predicted_key)


# 10 held-out phrases: 6 intents right; the FAQ keys right for 2 of 4.
ROWS = [
    P("greet", "greet", text="здравствуйте"), P("greet", "greet", text="добрый день"),
    P("greet", "goodbye", text="всем привет и пока"), P("greet", "goodbye", text="ну привет, до встречи"),
    P("goodbye", "goodbye", text="до свидания"), P("goodbye", "nlu_fallback", text="бывай"),
    P("faq", "faq", "faq/cost", "faq/cost", text="сколько стоит"),
    P("faq", "faq", "faq/cost", "faq/email", text="цена услуги"),
    P("faq", "faq", "faq/email", "faq/email", text="адрес почты"), P("faq", "greet", "faq/email", None, text="почта есть?"),
]


def test_figures_match_the_hand_count():
    assert heldout.intent_accuracy(ROWS) == pytest.approx(0.6)
    # greet P 2/3 R 1/2 → 4/7; goodbye P 1/3 R 1/2 → 0.4; faq P 1 R 3/4 → 6/7;
    # nlu_fallback, predicted only, 0.
    scores = heldout.per_intent(ROWS)
    assert scores["greet"]["f1"] == pytest.approx(4 / 7)
    assert scores["goodbye"]["f1"] == pytest.approx(0.4)
    assert scores["faq"]["f1"] == pytest.approx(6 / 7)
    assert scores["nlu_fallback"]["f1"] == 0 and scores["nlu_fallback"]["support"] == 0
    assert heldout.macro_f1(ROWS) == pytest.approx((4 / 7 + 0.4 + 6 / 7 + 0) / 4)
    assert heldout.faq_key_accuracy(ROWS) == pytest.approx(0.5)


def test_confusion_counts_every_phrase_once():
    labels, matrix = heldout.confusion(ROWS)
    assert labels == ["faq", "goodbye", "greet", "nlu_fallback"]
    assert matrix == [[3, 0, 1, 0],   # faq: 3 right, 1 taken for greet
                      [0, 1, 0, 1],   # goodbye
                      [0, 2, 2, 0],   # greet: 2 taken for goodbye
                      [0, 0, 0, 0]]
    assert sum(map(sum, matrix)) == len(ROWS)


def test_most_confused_pairs_come_first_with_their_phrases():
    pairs = heldout.confused_pairs(ROWS)
    assert pairs[0] == {"expected": "greet", "predicted": "goodbye", "count": 2,
                        "examples": ["всем привет и пока", "ну привет, до встречи"]}
    # FAQ keys are told apart: the wrong key is a confusion of its own.
    assert {"expected": "faq/cost", "predicted": "faq/email", "count": 1,
            "examples": ["цена услуги"]} in pairs
    assert len(pairs) == 4


def test_report_shows_the_change_against_the_running_model():
    # The running model got every greeting right and both «faq/email» questions wrong.
    before = list(ROWS)
    before[2] = P("greet", "greet", text="всем привет и пока")
    before[3] = P("greet", "greet", text="ну привет, до встречи")
    before[8] = P("faq", "faq", "faq/email", "faq/cost", text="адрес почты")
    report = evaluate.build(ROWS, before)
    metrics = {m["name"]: m for m in report["metrics"]}
    assert metrics["intent_accuracy"]["before"] == pytest.approx(0.8)
    assert metrics["intent_accuracy"]["delta"] == pytest.approx(-0.2)
    assert metrics["faq_key_accuracy"]["delta"] == pytest.approx(0.5 - 0.25)
    # Weakest first; nlu_fallback, expected by no phrase, last.
    assert [r["intent"] for r in report["intents"]] == ["goodbye", "greet", "faq", "nlu_fallback"]
    greet = next(r for r in report["intents"] if r["intent"] == "greet")
    assert greet["f1"] == pytest.approx(4 / 7) and greet["delta"] < 0
    changes = report["changes"]
    assert [r["text"] for r in changes["broken"]] == ["всем привет и пока", "ну привет, до встречи"]
    assert changes["fixed"] == [{"text": "адрес почты", "expected": "faq/email", "now": "faq/email",
                                 "before": "faq/cost"}]
    email = next(r for r in report["faq_keys"] if r["key"] == "faq/email")
    assert (email["accuracy"], email["before"]) == (0.5, 0.0)


def test_report_without_a_running_model_has_no_deltas():
    report = evaluate.build(ROWS)
    assert all(m["before"] is None and m["delta"] is None for m in report["metrics"])
    assert report["changes"] is None


def test_example_phrases_are_masked():
    rows = [P("inform", "greet", text="мой снилс 123-456-789 64 и дата 12.03.1985")]
    pairs = evaluate.build(rows)["pairs"]
    assert pairs[0]["examples"] == ["мой снилс *** и дата ***"]


def test_confusion_picture_is_a_png():
    picture = evaluate.confusion_png(*heldout.confusion(ROWS))
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and len(picture) > 2000


def test_predictions_survive_their_json_file(tmp_path):
    from workbench.jobs import write_json

    write_json(tmp_path / "p.json", {"model": "m.tar.gz", "rows": [r.as_dict() for r in ROWS]})
    assert evaluate.load_rows(tmp_path / "p.json") == ROWS


def test_new_training_phrases_are_found_with_their_labels(tmp_path):
    data = tmp_path / "data" / "nlu"
    data.mkdir(parents=True)
    (data / "a.yml").write_text(
        'version: "3.1"\n# a comment\nnlu:\n- intent: greet\n  examples: |\n    - здравствуйте\n'
        "- intent: faq/cost\n  examples: |\n    - сколько стоит\n"
        "- intent: check_application_status\n  examples: |\n    - что с заявкой [1234567890](application_number)\n"
        "- regex: application_number\n  examples: |\n    - \\d{10}\n", encoding="utf-8")
    before = evaluate.nlu_examples(tmp_path / "data")
    assert before == [["здравствуйте", "greet", None], ["сколько стоит", "faq", "faq/cost"],
                      ["что с заявкой 1234567890", "check_application_status", None]]
    (data / "b.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - доброго утречка\n'
                                "- intent: faq/cost\n  examples: |\n    - здравствуйте\n", encoding="utf-8")
    after = evaluate.nlu_examples(tmp_path / "data")
    # The same text under another label is new too: the label is what the trainer changed.
    assert evaluate.new_examples(after, before) == [["доброго утречка", "greet", None],
                                                    ["здравствуйте", "faq", "faq/cost"]]
