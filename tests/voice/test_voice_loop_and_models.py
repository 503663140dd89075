"""The local loop (file in, file out) and the model download/verification."""
from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import zipfile

import pytest

from voice.audio import read_wav, rms_dbfs, silence, write_wav

from voice_fixtures import espeak, korean_model, korean_voice  # noqa: F401 - fixtures


class AssistantThread:
    """A scripted assistant on its own event loop, for code that runs asyncio.run itself."""

    def __init__(self, answer):
        from fakes.phone import ScriptedAssistant

        self.assistant = ScriptedAssistant(answer)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.assistant.start(), self.loop).result(10)
        return self.assistant

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.assistant.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def status_answers(sender, message):
    if message == "12.03.1985":
        return [{"text": "Заявление 1234567890 в обработке."}], {"requested_slot": None}
    if message.startswith("статус"):
        return [{"text": "Укажите дату рождения.", "buttons": [{"title": "Отмена", "payload": "/cancel"}]}], \
            {"requested_slot": "birth_date"}
    return [{"text": "Понятно."}], {"requested_slot": None}


def test_loop_with_text_writes_the_spoken_answers(tmp_path, espeak, capsys):
    from voice.loop import main

    out = tmp_path / "answer.wav"
    with AssistantThread(status_answers) as assistant:
        code = main(["--rasa-url", assistant.url, "--text", "статус заявления 1234567890",
                     "--text", "двенадцатое марта восемьдесят пятого года", "--out", str(out)])
        messages = [m for _, m in assistant.received]
    assert code == 0
    assert messages == ["статус заявления 1234567890", "12.03.1985"]  # the date normalised for the slot
    answer = read_wav(out)
    assert answer.rate == 16000 and 4 < answer.seconds < 20 and rms_dbfs(answer.pcm) > -35
    printed = capsys.readouterr().out
    assert "Можно выбрать: Отмена." in printed and "в обработке" in printed


def test_loop_recognises_a_wav_file(tmp_path, korean_voice, korean_model, monkeypatch):
    from voice.audio import Audio
    from voice.loop import main

    question = tmp_path / "question.wav"
    speech = korean_voice.synthesize("안녕하세요 오늘 날씨가 좋습니다")  # 22.05 kHz, as a recorder might give
    write_wav(question, Audio(speech.pcm + silence(1.0, speech.rate), speech.rate))
    monkeypatch.setenv("VOICE_VOSK_MODEL", str(korean_model.path))
    out = tmp_path / "answer.wav"
    with AssistantThread(status_answers) as assistant:
        assert main(["--rasa-url", assistant.url, "--in", str(question), "--out", str(out), "--phone"]) == 0
        messages = [m for _, m in assistant.received]
    assert len(messages) == 1 and any("\uac00" <= ch <= "\ud7a3" for ch in messages[0])
    assert read_wav(out).rate == 8000


def test_loop_without_a_model_says_where_it_goes(tmp_path, monkeypatch):
    from voice.asr import ModelMissing
    from voice.loop import main

    question = tmp_path / "q.wav"
    from voice.audio import Audio

    write_wav(question, Audio(silence(0.5, 16000), 16000))
    monkeypatch.setenv("VOICE_VOSK_MODEL", str(tmp_path / "nowhere"))
    with pytest.raises(ModelMissing, match=str(tmp_path / "nowhere")):
        main(["--in", str(question), "--out", str(tmp_path / "a.wav"), "--rasa-url", "http://127.0.0.1:9"])


def _zip_model() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("vosk-model-small-ru-0.22/am/final.mdl", b"model")
        z.writestr("vosk-model-small-ru-0.22/conf/model.conf", b"--beam=10")
    return buffer.getvalue()


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_verifies_the_checksum_and_unpacks(tmp_path, capsys):
    from dataclasses import replace

    from voice.model_download import VOSK_RU_SMALL, download

    data = _zip_model()
    spec = replace(VOSK_RU_SMALL, sha256=hashlib.sha256(data).hexdigest())
    target = download(spec, directory=tmp_path, opener=lambda url, timeout: FakeResponse(data))
    assert (target / "am" / "final.mdl").read_bytes() == b"model"
    assert target == tmp_path / "vosk-model-small-ru-0.22"

    bad = replace(VOSK_RU_SMALL, sha256="0" * 64)
    with pytest.raises(SystemExit, match="checksum mismatch"):
        download(bad, directory=tmp_path / "other", opener=lambda url, timeout: FakeResponse(data))
    assert not (tmp_path / "other" / "vosk-model-small-ru-0.22").exists()


def test_a_model_without_pinned_checksum_needs_explicit_pinning(tmp_path):
    from dataclasses import replace

    from voice.model_download import VOSK_RU_SMALL, download

    data = _zip_model()
    unpinned = replace(VOSK_RU_SMALL, sha256=None)
    with pytest.raises(SystemExit, match="no pinned checksum"):
        download(unpinned, directory=tmp_path, opener=lambda url, timeout: FakeResponse(data))
    download(unpinned, pin=True, directory=tmp_path, opener=lambda url, timeout: FakeResponse(data))
    assert hashlib.sha256(data).hexdigest() in (tmp_path / "checksums.json").read_text()


def test_download_without_internet_names_the_file_and_its_place(tmp_path):
    from voice.model_download import VOSK_RU_SMALL, download

    def offline(url, timeout):
        raise OSError("Network is unreachable")

    with pytest.raises(SystemExit) as error:
        download(VOSK_RU_SMALL, directory=tmp_path, opener=offline)
    assert "vosk-model-small-ru-0.22" in str(error.value) and str(tmp_path) in str(error.value)


def test_check_reports_missing_models_with_paths(tmp_path, monkeypatch, capsys):
    from voice.model_download import main

    monkeypatch.setenv("VOICE_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("VOICE_VOSK_MODEL", raising=False)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert str(tmp_path / "vosk-model-small-ru-0.22") in out and "no" in out
