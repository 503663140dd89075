"""«Прослушать»: a response's voice variation synthesised by the project's
TTS (voice.tts: the engine VOICE_TTS names, espeak-ng by default) at the
telephone's rate, as a WAV an <audio> element plays.

Placeholders are filled the way the phone fills them: slots with their
deployment defaults, an action's value with a sample word, so the trainer
hears the length and rhythm the caller will hear.
"""
from __future__ import annotations

import threading
from typing import Dict, Optional

from hotline.answer_text import render
from voice.audio import wav_bytes
from voice.tts import EngineUnavailable, Synthesizer, create_engine

PHONE_RATE = 8000
MAX_CHARS = 2000
_lock = threading.Lock()
_synthesizer: Optional[Synthesizer] = None


class ListenError(Exception):
    """The preview cannot be made; the message is Russian."""


def _get() -> Synthesizer:
    global _synthesizer
    with _lock:
        if _synthesizer is None:
            try:
                engine = create_engine()
            except (EngineUnavailable, ValueError, OSError) as exc:
                raise ListenError("Синтез речи недоступен на этом сервере: прослушать ответ нельзя. "
                                  "Обратитесь к администратору (docs/voice.md).") from exc
            _synthesizer = Synthesizer(engine, PHONE_RATE)
        return _synthesizer


def preview_wav(text: str, slot_defaults: Dict[str, str]) -> bytes:
    """WAV bytes of the text as the phone says it (blocking: run it off the event loop)."""
    text = (text or "").strip()
    if not text:
        raise ListenError("Нечего прослушать: текст пустой.")
    if len(text) > MAX_CHARS:
        raise ListenError(f"Текст слишком длинный для прослушивания: не больше {MAX_CHARS} символов.")
    synthesizer = _get()
    try:
        audio = synthesizer.speak_all(render(text, slot_defaults))
    except Exception as exc:  # noqa: BLE001 — any engine failure is one polite answer
        raise ListenError("Не удалось синтезировать речь; попробуйте ещё раз.") from exc
    if not audio.pcm:
        raise ListenError("Синтез речи вернул пустой звук; проверьте текст.")
    return wav_bytes(audio)
