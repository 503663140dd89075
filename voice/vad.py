"""Voice activity: when the caller starts and stops speaking, and barge-in.

WebRTC VAD (PyPI ``webrtcvad-wheels``: a few kilobytes of C, no model file,
~20 µs per 20 ms frame) classifies each frame; an energy floor keeps line
hiss and comfort noise from counting as speech. Frames of 10, 20 or 30 ms
at 8, 16, 32 or 48 kHz are accepted — the telephone's 20 ms at 8 kHz fits.

:class:`SpeechTracker` turns frame decisions into events with hysteresis:
speech starts after ``start_ms`` of speech frames in a row (barge-in, so a
cough does not stop the bot) and ends after ``end_ms`` of non-speech.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from voice.audio import rms_dbfs

try:  # pragma: no cover - the import itself is what is tested
    import webrtcvad
except ImportError:  # pragma: no cover
    webrtcvad = None


class FrameVAD:
    """Is this frame speech? WebRTC VAD plus an energy floor."""

    def __init__(self, rate: int = 8000, aggressiveness: int = 2, min_dbfs: float = -45.0) -> None:
        self.rate, self.min_dbfs = rate, min_dbfs
        self._vad = webrtcvad.Vad(aggressiveness) if webrtcvad is not None else None

    @property
    def kind(self) -> str:
        return "webrtc" if self._vad is not None else "energy"

    def is_speech(self, frame: bytes) -> bool:
        if rms_dbfs(frame) < self.min_dbfs:
            return False
        if self._vad is None:
            return True  # energy only: webrtcvad missing
        n = len(frame) // 2
        if n * 1000 // self.rate not in (10, 20, 30):
            return True
        return self._vad.is_speech(frame, self.rate)


@dataclass
class SpeechEvent:
    kind: str  # "start" or "end"
    at_ms: int  # stream time of the first frame of the run that decided it


class SpeechTracker:
    """Hysteresis over frame decisions: ``start`` and ``end`` events."""

    def __init__(self, vad: FrameVAD, frame_ms: int = 20, start_ms: int = 100, end_ms: int = 600) -> None:
        self.vad, self.frame_ms = vad, frame_ms
        self.start_frames = max(1, start_ms // frame_ms)
        self.end_frames = max(1, end_ms // frame_ms)
        self.speaking = False
        self._run = 0
        self._run_start = 0
        self.now_ms = 0
        self.last_speech_ms: Optional[int] = None

    def reset(self) -> None:
        self.speaking, self._run = False, 0

    def feed(self, frame: bytes) -> Optional[SpeechEvent]:
        speech = self.vad.is_speech(frame)
        t = self.now_ms
        self.now_ms += self.frame_ms
        if speech:
            self.last_speech_ms = t
        if speech != self.speaking:
            if self._run == 0:
                self._run_start = t
            self._run += 1
            if self._run >= (self.end_frames if self.speaking else self.start_frames):
                self.speaking, self._run = speech, 0
                return SpeechEvent("start" if speech else "end", self._run_start)
        else:
            self._run = 0
        return None
