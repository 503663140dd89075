"""Synthesis: espeak-ng by duration and level, text for the ear, cache, rates,
and the Silero engine's errors when its file or torch is missing."""
from __future__ import annotations

import builtins

import pytest

from voice.audio import Audio, rms_dbfs

from voice_fixtures import espeak  # noqa: F401 - fixtures


def test_espeak_russian_has_a_plausible_duration_and_level(espeak):
    text = "Здравствуйте! Назовите, пожалуйста, номер заявления."
    audio = espeak.synthesize(text)
    assert audio.rate == 22050
    # ~6 words a second at 165 words a minute, with pauses: 2 to 6 seconds.
    assert 2.0 < audio.seconds < 6.0, audio.seconds
    assert -35 < rms_dbfs(audio.pcm) < -6
    longer = espeak.synthesize(text + " " + text)
    assert 1.7 < longer.seconds / audio.seconds < 2.3


def test_synthesizer_resamples_to_the_callers_rate_and_caches(espeak):
    from voice.tts import AudioCache, Synthesizer

    synth = Synthesizer(espeak, 8000, AudioCache())
    first = synth.speak_all("Соединяю с оператором.")
    assert first.rate == 8000
    assert 0.8 < first.seconds < 4
    assert -35 < rms_dbfs(first.pcm) < -6
    again = synth.speak_all("Соединяю с оператором.")
    assert again == first and synth.cache.hits == 1
    wide = Synthesizer(espeak, 16000, synth.cache).speak_all("Соединяю с оператором.")
    assert wide.rate == 16000 and abs(wide.seconds - first.seconds) < 0.01


def test_disk_cache_survives_a_restart(tmp_path):
    from voice.tts import AudioCache

    cache = AudioCache(directory=tmp_path)
    key = AudioCache.key("v", 8000, "текст")
    cache.put(key, Audio(b"\x01\x00" * 80, 8000))
    assert AudioCache(directory=tmp_path).get(key) == Audio(b"\x01\x00" * 80, 8000)


def test_memory_cache_is_bounded():
    from voice.tts import AudioCache

    cache = AudioCache(max_bytes=1000)
    for i in range(10):
        cache.put(str(i), Audio(bytes(400), 8000))
    assert len(cache) == 2 and cache.get("9") is not None and cache.get("0") is None


PREPARED = [
    ("Заявление AB‑987654321 в обработке.",
     "Заявление эй би, девять восемь семь, шесть пять четыре, три два один в обработке."),
    ("Номер 1234567890.", "Номер один два три, четыре пять шесть, семь восемь, девять ноль."),
    ("• Дата подачи: 12 марта 2025 г.", "Дата подачи: двенадцатое марта две тысячи двадцать пятого года."),
    ("Родился 12.03.1985.", "Родился двенадцатое марта тысяча девятьсот восемьдесят пятого года."),
    ("Подойдите в МФЦ с ИНН и СНИЛС.", "Подойдите в эм эф цэ с и эн эн и снилс."),
    ("Звоните 800‑100‑200 ✅", "Звоните восемьсот, сто, двести."),
    ("Портал https://www.gosuslugi.ru, раздел «Помощь».", "Портал, раздел Помощь."),
    ("На портале (https://www.gosuslugi.ru) 👍 всё есть", "На портале всё есть."),
    ("85 % запросов за 30 секунд", "восемьдесят пять процентов запросов за тридцать секунд."),
    ("СНИЛС 123-456-789 01", "снилс один два три, четыре пять шесть, семь восемь девять, ноль один."),
]


@pytest.mark.parametrize("text,spoken", PREPARED)
def test_text_is_prepared_for_the_ear(text, spoken):
    from voice.tts.text import prepare

    assert prepare(text) == spoken


def test_bullets_become_sentences_and_long_text_is_split():
    from voice.tts.text import prepare, split_sentences

    spoken = prepare("Подготовьте:\n• паспорт;\n• копии документов;\n• заявление.")
    assert spoken == "Подготовьте. паспорт. копии документов. заявление."
    sentences = split_sentences(prepare("Первое предложение. Второе! " + "очень длинное, " * 40 + "конец."))
    assert sentences[:2] == ["Первое предложение.", "Второе!"]
    assert all(len(s) <= 300 for s in sentences)


def test_silero_says_which_file_is_missing_and_where(tmp_path):
    from voice.tts.base import EngineUnavailable
    from voice.tts.silero import SileroEngine

    with pytest.raises(EngineUnavailable) as error:
        SileroEngine(tmp_path / "silero" / "v4_ru.pt")
    assert str(tmp_path / "silero" / "v4_ru.pt") in str(error.value)


def test_silero_without_torch_says_how_to_get_it(tmp_path, monkeypatch):
    from voice.tts.base import EngineUnavailable
    from voice.tts.silero import SileroEngine

    model = tmp_path / "v4_ru.pt"
    model.write_bytes(b"not really a model")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(EngineUnavailable, match="PyTorch"):
        SileroEngine(model)


def test_silero_engine_converts_the_models_float_audio():
    import numpy as np

    from voice.tts.silero import SileroEngine

    class FakeModel:  # the apply_tts contract of Silero's torch.package models
        def apply_tts(self, text, speaker, sample_rate, put_accent, put_yo):
            assert speaker == "xenia" and sample_rate == 8000
            return np.sin(np.linspace(0, 100, 8000)) * 0.5

    engine = SileroEngine("unused.pt", model=FakeModel())
    audio = engine.synthesize("Привет.")
    assert audio.rate == 8000 and audio.seconds == 1.0 and -10 < rms_dbfs(audio.pcm) < -6
