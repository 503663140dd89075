"""Voice settings, all from the environment (with the defaults shown).

=====================  ==========================================  =====================================
variable               default                                     meaning
=====================  ==========================================  =====================================
VOICE_RASA_URL         http://localhost:5005                       the Rasa server (``rasa run``)
VOICE_RASA_CHANNEL     voice                                       webhook: ``voice`` (voice/channel.py) or ``rest``
VOICE_MODELS_DIR       models/voice                                where ``python -m voice.model_download download`` puts models
VOICE_VOSK_MODEL       $VOICE_MODELS_DIR/vosk-model-small-ru-0.22  the unpacked Vosk model directory
VOICE_ASR_RATE         (the model's, 16000)                        rate the recogniser is fed; 8000 for a narrowband model
VOICE_TTS              espeak                                      ``espeak`` or ``silero``
VOICE_SILERO_MODEL     $VOICE_MODELS_DIR/silero/v4_ru.pt           the Silero torch.package file
VOICE_SILERO_SPEAKER   xenia                                       aidar, baya, kseniya, xenia, eugene
VOICE_SILERO_RATE      8000                                        8000, 24000 or 48000
VOICE_TTS_CACHE        var/voice/tts-cache                         directory of cached sentences ("" = memory only)
VOICE_HOST / PORT      0.0.0.0 / 9092                              AudioSocket listener
VOICE_HTTP_PORT        9093                                        call dispositions for the dialplan (0 = off)
VOICE_NO_INPUT_S       8                                           silence before the re-prompt
VOICE_END_SILENCE_MS   700                                         silence that ends the caller's turn
VOICE_BARGE_IN_MS      100                                         speech that interrupts the bot
VOICE_ASR_WARM         2                                           recognisers warmed at start (first decode is slow)
=====================  ==========================================  =====================================
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from hotline.paths import ROOT



def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None else value


@dataclass
class VoiceConfig:
    rasa_url: str = field(default_factory=lambda: _env("VOICE_RASA_URL", "http://localhost:5005"))
    rasa_channel: str = field(default_factory=lambda: _env("VOICE_RASA_CHANNEL", "voice"))
    vosk_model: Optional[Path] = None
    asr_rate: Optional[int] = field(default_factory=lambda: int(os.environ["VOICE_ASR_RATE"])
                                    if os.environ.get("VOICE_ASR_RATE") else None)
    tts: str = field(default_factory=lambda: _env("VOICE_TTS", "espeak"))
    tts_cache: str = field(default_factory=lambda: _env("VOICE_TTS_CACHE", str(ROOT / "var" / "voice" / "tts-cache")))
    host: str = field(default_factory=lambda: _env("VOICE_HOST", "0.0.0.0"))
    port: int = field(default_factory=lambda: int(_env("VOICE_PORT", "9092")))
    http_port: int = field(default_factory=lambda: int(_env("VOICE_HTTP_PORT", "9093")))
    no_input_s: float = field(default_factory=lambda: float(_env("VOICE_NO_INPUT_S", "8")))
    end_silence_ms: int = field(default_factory=lambda: int(_env("VOICE_END_SILENCE_MS", "700")))
    barge_in_ms: int = field(default_factory=lambda: int(_env("VOICE_BARGE_IN_MS", "100")))

    def __post_init__(self) -> None:
        if self.vosk_model is None:
            from voice.model_download import vosk_model_path

            self.vosk_model = vosk_model_path()
