"""Speech synthesis: engines, text preparation, cache and the caller's rate.

:class:`Synthesizer` is what the dialogue uses: it prepares a bot message
for the ear (:mod:`voice.tts.text`), splits it into sentences, takes each
from the cache or from the engine, and resamples to the rate the caller
needs (8 kHz on the telephone).
"""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator, Iterator, List, Optional

from hotline import settings
from voice.audio import Audio
from voice.tts.base import EngineUnavailable, TTSEngine
from voice.tts.cache import AudioCache
from voice.tts.text import prepare, split_sentences

__all__ = ["Synthesizer", "TTSEngine", "EngineUnavailable", "AudioCache", "create_engine", "prepare"]


def create_engine(name: Optional[str] = None, **options) -> TTSEngine:
    """``espeak`` (default) or ``silero``; options come from the environment when not given."""
    name = (name or settings.get("VOICE_TTS")).lower()
    if name == "espeak":
        from voice.tts.espeak import EspeakEngine

        return EspeakEngine(**options)
    if name == "silero":
        from voice.model_download import silero_model_path
        from voice.tts.silero import SileroEngine

        options.setdefault("model_path", silero_model_path())
        options.setdefault("speaker", settings.get("VOICE_SILERO_SPEAKER"))
        options.setdefault("sample_rate", settings.get("VOICE_SILERO_RATE"))
        return SileroEngine(**options)
    raise ValueError(f"unknown TTS engine {name!r}: use espeak or silero")


class Synthesizer:
    def __init__(self, engine: TTSEngine, rate: int, cache: Optional[AudioCache] = None,
                 executor: Optional[ThreadPoolExecutor] = None) -> None:
        self.engine, self.rate = engine, rate
        self.cache = cache if cache is not None else AudioCache()
        self.executor = executor or ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2),
                                                       thread_name_prefix="tts")

    def sentences(self, message: str) -> List[str]:
        return split_sentences(prepare(message))

    def sentence(self, text: str) -> Audio:
        """One prepared sentence at the output rate (cached)."""
        key = AudioCache.key(self.engine.key, self.rate, text)
        audio = self.cache.get(key)
        if audio is None:
            audio = self.engine.synthesize(text).at(self.rate)
            self.cache.put(key, audio)
        return audio

    def speak(self, message: str) -> Iterator[Audio]:
        for text in self.sentences(message):
            yield self.sentence(text)

    def speak_all(self, message: str) -> Audio:
        return Audio(b"".join(a.pcm for a in self.speak(message)), self.rate)

    async def stream(self, message: str) -> AsyncIterator[Audio]:
        """Sentences as they are ready; the next one is synthesised while the
        current one plays, so the first audio comes after one sentence's work."""
        loop = asyncio.get_running_loop()
        texts = self.sentences(message)
        pending = [loop.run_in_executor(self.executor, self.sentence, t) for t in texts[:2]]
        for i in range(len(texts)):
            audio = await pending[i]
            if i + 2 < len(texts):
                pending.append(loop.run_in_executor(self.executor, self.sentence, texts[i + 2]))
            yield audio

    def warm(self, messages: List[str]) -> None:
        """Synthesise fixed prompts ahead of the first call."""
        for message in messages:
            for _ in self.speak(message):
                pass
