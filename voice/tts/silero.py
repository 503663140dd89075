"""Silero TTS: a natural Russian neural voice, loaded from a local file.

The model is a ``torch.package`` archive (e.g. ``v4_ru.pt``, speakers
aidar, baya, kseniya, xenia, eugene; 8, 24 or 48 kHz). It is never
downloaded at run time: put the file where ``VOICE_SILERO_MODEL`` points
(default ``models/voice/silero/v4_ru.pt``). torch is an optional, large
dependency and is imported only when this engine is created.

Licence: Silero's TTS models are published under Creative Commons
Attribution-NonCommercial (CC BY-NC / BY-NC-SA 4.0, see the model's
repository); commercial use needs a licence from Silero. docs/voice.md has
the details; the default engine stays eSpeak NG.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Optional

from voice.audio import Audio, float_to_int16, to_bytes
from voice.tts.base import EngineUnavailable, TTSEngine

SPEAKERS = ("aidar", "baya", "kseniya", "xenia", "eugene")
RATES = (8000, 24000, 48000)


class SileroEngine(TTSEngine):
    name = "silero"

    def __init__(self, model_path: Path, speaker: str = "xenia", sample_rate: int = 8000, threads: int = 1,
                 model: Optional[Any] = None) -> None:
        if sample_rate not in RATES:
            raise ValueError(f"Silero synthesises at {RATES} Hz, not {sample_rate}")
        self.model_path, self.speaker, self.sample_rate = Path(model_path), speaker, sample_rate
        self._lock = threading.Lock()  # one torch model is not re-entrant
        self.model = model if model is not None else self._load(threads)

    @property
    def key(self) -> str:
        return f"silero:{self.model_path.name}:{self.speaker}:{self.sample_rate}"

    def _load(self, threads: int) -> Any:
        if not self.model_path.is_file():
            raise EngineUnavailable(
                f"Silero model file is missing: {self.model_path}. Put the Russian Silero model there "
                "(python -m voice.model_download download --silero on a machine with internet, after reading its "
                "licence) or set VOICE_SILERO_MODEL; VOICE_TTS=espeak uses the default voice.")
        try:
            import torch  # noqa: WPS433 - optional dependency, imported on use
        except ImportError as error:
            raise EngineUnavailable(
                "the Silero voice needs PyTorch, which is not installed: pip install torch (CPU build); "
                "VOICE_TTS=espeak uses the default voice") from error
        torch.set_num_threads(threads)
        importer = torch.package.PackageImporter(str(self.model_path))
        model = importer.load_pickle("tts_models", "model")
        model.to(torch.device("cpu"))
        return model

    def synthesize(self, text: str) -> Audio:
        with self._lock:
            audio = self.model.apply_tts(text=text, speaker=self.speaker, sample_rate=self.sample_rate,
                                         put_accent=True, put_yo=True)
        samples = audio.numpy() if hasattr(audio, "numpy") else audio
        return Audio(to_bytes(float_to_int16(samples)), self.sample_rate)
