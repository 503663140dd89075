"""Voice settings, all from the environment through hotline.settings'
catalogue (``python -m hotline.settings`` prints them with their defaults).

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
VOICE_HOST / PORT      127.0.0.1 / 9092                            AudioSocket listener (the dispositions too)
VOICE_HTTP_PORT        9093                                        call dispositions for the dialplan (0 = off)
VOICE_ALLOWED_PEERS    127.0.0.1,::1                               PBX addresses allowed to connect (comma separated)
VOICE_MAX_CALLS        4                                           concurrent calls; more hear a busy prompt
VOICE_CHANNEL_TOKEN    (var/voice-channel.secret)                  the phone server's key to Rasa's voice webhook
VOICE_NO_INPUT_S       8                                           silence before the re-prompt
VOICE_END_SILENCE_MS   700                                         silence that ends the caller's turn
VOICE_BARGE_IN_MS      100                                         speech that interrupts the bot
VOICE_ASR_WARM         2                                           recognisers warmed at start (first decode is slow)
=====================  ==========================================  =====================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional

from hotline import settings
from hotline.paths import ROOT


def _env(name: str) -> Callable[[], Any]:
    """A dataclass default read from the catalogue (hotline.settings) when a config is made."""
    return lambda: settings.get(name)


def _tts_cache() -> str:
    cache = settings.get("VOICE_TTS_CACHE")
    return str(ROOT / "var" / "voice" / "tts-cache") if cache is None else cache


def voice_token() -> str:
    """What the phone server shows Rasa's voice webhook (voice/channel.py)."""
    from hotline.secret_files import secret

    return secret("VOICE_CHANNEL_TOKEN", "voice-channel.secret")


def _peers(value: str) -> List[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


@dataclass
class VoiceConfig:
    rasa_url: str = field(default_factory=_env("VOICE_RASA_URL"))
    rasa_channel: str = field(default_factory=_env("VOICE_RASA_CHANNEL"))
    vosk_model: Optional[Path] = None
    asr_rate: Optional[int] = field(default_factory=_env("VOICE_ASR_RATE"))
    tts: str = field(default_factory=_env("VOICE_TTS"))
    tts_cache: str = field(default_factory=_tts_cache)
    # Loopback unless the PBX runs elsewhere: then VOICE_HOST and VOICE_ALLOWED_PEERS.
    host: str = field(default_factory=_env("VOICE_HOST"))
    allowed_peers: List[str] = field(default_factory=lambda: _peers(settings.get("VOICE_ALLOWED_PEERS")))
    max_calls: int = field(default_factory=lambda: max(1, settings.get("VOICE_MAX_CALLS")))
    port: int = field(default_factory=_env("VOICE_PORT"))
    http_port: int = field(default_factory=_env("VOICE_HTTP_PORT"))
    no_input_s: float = field(default_factory=_env("VOICE_NO_INPUT_S"))
    end_silence_ms: int = field(default_factory=_env("VOICE_END_SILENCE_MS"))
    barge_in_ms: int = field(default_factory=_env("VOICE_BARGE_IN_MS"))

    def __post_init__(self) -> None:
        if self.vosk_model is None:
            from voice.model_download import vosk_model_path

            self.vosk_model = vosk_model_path()
