"""The synthesiser interface every TTS engine implements."""
from __future__ import annotations

import abc

from voice.audio import Audio


class EngineUnavailable(RuntimeError):
    """The engine cannot run here; the message says what to install or where to put which file."""


class TTSEngine(abc.ABC):
    """Text (already prepared for speech) in, mono 16-bit PCM out.

    ``key`` identifies the voice for the cache: two engines with the same key
    must produce the same audio for the same text.
    """

    name: str = "engine"
    sample_rate: int = 16000

    @property
    def key(self) -> str:
        return f"{self.name}:{self.sample_rate}"

    @abc.abstractmethod
    def synthesize(self, text: str) -> Audio:
        """Speak ``text``; blocking (the synthesiser runs it in a worker thread)."""

    def close(self) -> None:  # pragma: no cover - engines without resources
        pass
