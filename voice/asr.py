"""Streaming speech recognition with Vosk: partial results and endpointing.

One :class:`VoskModel` is loaded per process and shared; each call gets a
:class:`StreamingRecognizer`. Audio arrives at the line rate (8 kHz from
Asterisk) and is resampled to the model's rate with
:class:`voice.audio.StreamResampler` (see voice/audio.py and docs/voice.md
for why 8 → 16 kHz costs some accuracy, and ``VOICE_ASR_RATE=8000`` for a
narrowband model, which then gets the audio untouched).

Endpointing — when the caller has finished — comes from two sources,
whichever is first:

* Vosk's own endpointer (the ``--endpoint.*`` rules in the model's
  ``conf/model.conf``: trailing silence after speech);
* our VAD: after speech, ``end_silence_ms`` of non-speech frames force the
  final result. This bounds the delay regardless of the model's tuning.

Results carry ``reason`` (``vosk``, ``silence``, ``flush``) and a mean word
confidence, which the dialogue uses to ask the caller to repeat.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence

from voice.audio import FRAME_MS, StreamResampler, frame_bytes
from voice.grammar import phrases_json
from voice.vad import FrameVAD

logger = logging.getLogger(__name__)


class ModelMissing(RuntimeError):
    """A model file or directory is not where it should be; the message names both."""


@dataclass
class ASRResult:
    kind: str  # "partial" or "final"
    text: str
    confidence: float = 1.0
    reason: str = ""
    words: List[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.text.strip()


class VoskModel:
    """A loaded Vosk model, shared by every call of the process."""

    def __init__(self, path: Path, sample_rate: Optional[int] = None) -> None:
        path = Path(path)
        if not (path / "am" / "final.mdl").is_file() and not (path / "final.mdl").is_file():
            raise ModelMissing(
                f"Vosk model not found: expected the unpacked model directory (with am/final.mdl) at {path}. "
                "Run `make voice-models` (python -m voice.model_download download) on a machine with internet, "
                "or unpack vosk-model-small-ru-0.22 there, or set VOICE_VOSK_MODEL to its directory.")
        try:
            import vosk
        except ImportError as error:
            raise ModelMissing("the vosk package is not installed: pip install vosk==0.3.45") from error
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.path = path
        self.model = vosk.Model(str(path))
        self.sample_rate = sample_rate or _model_rate(path)
        self.supports_grammar = (path / "graph" / "HCLr.fst").is_file() or (path / "graph" / "Gr.fst").is_file()
        self._pool: Dict[Optional[str], List[object]] = {}
        self._pool_lock = threading.Lock()

    # A recogniser decodes its first utterance several times slower than the
    # next ones (the decoding graph is expanded and cached on the fly), so
    # recognisers are reused across calls: acquire at the start, release at
    # the end of a call, and warm a few when the server starts.

    def _key(self, grammar: Optional[Sequence[str]]) -> Optional[str]:
        return phrases_json(grammar) if grammar is not None and self.supports_grammar else None

    def acquire(self, grammar: Optional[Sequence[str]] = None):
        with self._pool_lock:
            free = self._pool.get(self._key(grammar))
            if free:
                return free.pop()
        return self.recognizer(grammar)

    def release(self, rec, grammar: Optional[Sequence[str]] = None, keep: int = 64) -> None:
        rec.Reset()
        with self._pool_lock:
            free = self._pool.setdefault(self._key(grammar), [])
            if len(free) < keep:
                free.append(rec)

    def warm(self, pcm: bytes, count: int = 2, grammar: Optional[Sequence[str]] = None) -> None:
        """Decode ``pcm`` (speech at the model's rate) with ``count`` new recognisers and pool them."""
        recs = [self.recognizer(grammar) for _ in range(count)]
        for rec in recs:
            for i in range(0, len(pcm), 3200):
                rec.AcceptWaveform(pcm[i:i + 3200])
            rec.FinalResult()
            self.release(rec, grammar)

    def recognizer(self, grammar: Optional[Sequence[str]] = None):
        if grammar is not None and self.supports_grammar:
            rec = self._vosk.KaldiRecognizer(self.model, self.sample_rate, phrases_json(grammar))
        else:
            rec = self._vosk.KaldiRecognizer(self.model, self.sample_rate)
        rec.SetWords(True)
        return rec


def _model_rate(path: Path) -> int:
    """16000 unless the model's mfcc.conf says otherwise."""
    conf = path / "conf" / "mfcc.conf"
    if conf.is_file():
        for line in conf.read_text().splitlines():
            if line.startswith("--sample-frequency="):
                return int(float(line.split("=", 1)[1]))
    return 16000


class StreamingRecognizer:
    """Feed line-rate PCM, get partial and final results.

    Not thread-safe: one call, one recogniser, fed from one task at a time
    (the telephone server runs :meth:`accept` in a worker thread).
    """

    def __init__(self, model: VoskModel, input_rate: int = 8000, end_silence_ms: int = 700,
                 grammar: Optional[Sequence[str]] = None, vad: Optional[FrameVAD] = None,
                 max_utterance_ms: int = 15000, preroll_ms: int = 300, partial_every_ms: int = 160) -> None:
        self.partial_every = max(1, partial_every_ms // FRAME_MS)
        self.model = model
        self.input_rate = input_rate
        self.resampler = StreamResampler(input_rate, model.sample_rate)
        self.vad = vad or FrameVAD(input_rate)
        self.end_silence_ms = end_silence_ms
        self.max_utterance_ms = max_utterance_ms
        self.frame = frame_bytes(input_rate, FRAME_MS)
        self._grammar = grammar
        self._recognizer = None  # made on first use, in the worker thread that decodes
        self._lock = threading.Lock()
        self._pending = b""
        self._preroll: Deque[bytes] = deque(maxlen=max(1, preroll_ms // FRAME_MS))
        self._reset_utterance()

    def _reset_utterance(self) -> None:
        self.heard_speech = False
        self.silence_ms = 0
        self.utterance_ms = 0
        self.last_partial = ""
        self._since_partial = 0

    @property
    def _rec(self):
        if self._recognizer is None:
            self._recognizer = self.model.acquire(self._grammar)
        return self._recognizer

    def close(self) -> None:
        """The call is over: the recogniser goes back to the model's pool."""
        with self._lock:
            if self._recognizer is not None:
                self.model.release(self._recognizer, self._grammar)
                self._recognizer = None

    @property
    def in_speech(self) -> bool:
        return self.heard_speech

    def set_grammar(self, grammar: Optional[Sequence[str]]) -> None:
        """Restrict (or free, with None) the next utterance's vocabulary."""
        if grammar == self._grammar:
            return
        with self._lock:
            if self._recognizer is not None:
                self.model.release(self._recognizer, self._grammar)
            self._grammar = grammar
            self._recognizer = self.model.acquire(grammar)
            self._reset_utterance()

    def accept(self, pcm: bytes) -> List[ASRResult]:
        """Line-rate PCM (any length) → new partial/final results."""
        results: List[ASRResult] = []
        with self._lock:
            data = self._pending + pcm
            usable = len(data) // self.frame * self.frame
            self._pending = data[usable:]
            if not usable:
                return results
            force = False
            feed = []
            for i in range(0, usable, self.frame):
                frame = data[i:i + self.frame]
                if self.vad.is_speech(frame):
                    if not self.heard_speech:
                        feed.extend(self._preroll)  # the start of the word, before the VAD was sure
                        self._preroll.clear()
                    self.heard_speech = True
                    self.silence_ms = 0
                elif self.heard_speech:
                    self.silence_ms += FRAME_MS
                if self.heard_speech:
                    self.utterance_ms += FRAME_MS
                    feed.append(frame)
                else:
                    # VAD-gated decoding: silence between turns costs no decoder time.
                    self._preroll.append(frame)
                if self.heard_speech and (self.silence_ms >= self.end_silence_ms
                                          or self.utterance_ms >= self.max_utterance_ms):
                    force = True
                    self._pending = data[i + self.frame:usable] + self._pending  # next utterance's audio
                    break
            if not feed:
                return results
            resampled = self.resampler.process(b"".join(feed))
            if self._rec.AcceptWaveform(resampled):
                result = self._final(json.loads(self._rec.Result()), "vosk")
                if not result.empty or self.heard_speech:
                    results.append(result)
                self._reset_utterance()
                return results
            if force:
                results.append(self._final(json.loads(self._rec.FinalResult()), "silence"))
                self._reset_utterance()
                return results
            self._since_partial += usable // self.frame
            if self._since_partial < self.partial_every:
                return results
            self._since_partial = 0  # a partial result costs a lattice search: not every 20 ms
            partial = json.loads(self._rec.PartialResult()).get("partial", "")
            if partial and partial != self.last_partial:
                self.last_partial = partial
                results.append(ASRResult("partial", partial))
        return results

    def flush(self) -> Optional[ASRResult]:
        """End of input (hang-up, end of file): whatever is pending as a final result."""
        with self._lock:
            result = self._final(json.loads(self._rec.FinalResult()), "flush")
            heard = self.heard_speech
            self._reset_utterance()
        return result if (not result.empty or heard) else None

    def reset(self) -> None:
        with self._lock:
            self._rec.Reset()
            self._pending = b""
            self._reset_utterance()

    @staticmethod
    def _final(data: dict, reason: str) -> ASRResult:
        words = [w for w in data.get("result", []) if w.get("word") != "[unk]"]
        text = " ".join(w["word"] for w in words) if "result" in data else data.get("text", "")
        text = text.replace("[unk]", "").strip()
        confidence = sum(w.get("conf", 1.0) for w in words) / len(words) if words else (1.0 if text else 0.0)
        return ASRResult("final", text, confidence, reason, words)
