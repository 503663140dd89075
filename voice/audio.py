"""PCM helpers: 16-bit mono buffers, levels, WAV files and resampling.

Everything in the voice package passes audio as signed 16-bit little-endian
mono PCM (``bytes``) or as ``numpy.int16`` arrays, with the sample rate kept
alongside. Telephone audio from Asterisk is 8 kHz («slin»); the Russian Vosk
model and most TTS voices are 16 kHz or more.

Resampling 8 kHz → 16 kHz (docs/voice.md explains the trade-off)
----------------------------------------------------------------
Upsampling cannot restore what the telephone network removed: the 8 kHz
stream carries nothing above 4 kHz (in practice 300–3400 Hz). We upsample by
zero-stuffing and a windowed-sinc low-pass filter at the *input* Nyquist
frequency (polyphase FIR, :class:`StreamResampler`), so no spectral images
appear between 4 and 8 kHz — an image there would look like speech energy to
a 16 kHz acoustic model and hurt recognition more than an empty band does.
The 16 kHz model still sees an empty upper band it was not trained on; a
narrowband (8 kHz) model avoids that, see ``VOICE_ASR_RATE``.
"""
from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Tuple, Union

import numpy as np

SAMPLE_WIDTH = 2  # bytes, 16-bit PCM
PHONE_RATE = 8000
FRAME_MS = 20


def frame_bytes(rate: int, ms: int = FRAME_MS) -> int:
    """Bytes of one mono 16-bit frame: 320 for 20 ms at 8 kHz."""
    return rate * ms // 1000 * SAMPLE_WIDTH


def to_array(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")


def to_bytes(samples: np.ndarray) -> bytes:
    if samples.dtype != np.int16:
        samples = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return samples.astype("<i2").tobytes()


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """[-1, 1] floats (Silero, torch) → int16."""
    return np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767), -32768, 32767).astype(np.int16)


def rms_dbfs(pcm: Union[bytes, np.ndarray]) -> float:
    """Root-mean-square level in dB relative to full scale (silence → -inf)."""
    samples = to_array(pcm) if isinstance(pcm, (bytes, bytearray)) else pcm
    if len(samples) == 0:
        return float("-inf")
    rms = math.sqrt(float(np.mean(np.square(samples.astype(np.float64)))))
    return 20 * math.log10(rms / 32768) if rms > 0 else float("-inf")


def duration(pcm: bytes, rate: int) -> float:
    return len(pcm) / SAMPLE_WIDTH / rate


def silence(seconds: float, rate: int) -> bytes:
    return bytes(int(seconds * rate) * SAMPLE_WIDTH)


@dataclass(frozen=True)
class Audio:
    """Mono 16-bit PCM with its rate."""

    pcm: bytes
    rate: int

    @property
    def seconds(self) -> float:
        return duration(self.pcm, self.rate)

    def at(self, rate: int) -> "Audio":
        return self if rate == self.rate else Audio(resample(self.pcm, self.rate, rate), rate)


def read_wav(path: Union[str, Path, bytes]) -> Audio:
    """A WAV file (or its bytes) as mono 16-bit audio; stereo is averaged."""
    source = io.BytesIO(path) if isinstance(path, (bytes, bytearray)) else open(path, "rb")
    with source, wave.open(source, "rb") as w:
        if w.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError(f"{path!s:.80}: only 16-bit PCM WAV is supported, got {8 * w.getsampwidth()}-bit")
        rate, channels = w.getframerate(), w.getnchannels()
        data = w.readframes(w.getnframes())
    samples = to_array(data)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return Audio(to_bytes(samples), rate)


def wav_bytes(audio: Audio) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(audio.rate)
        w.writeframes(audio.pcm)
    return out.getvalue()


def write_wav(path: Union[str, Path], audio: Audio) -> None:
    Path(path).write_bytes(wav_bytes(audio))


# --- resampling -----------------------------------------------------------

def _ratio(in_rate: int, out_rate: int) -> Tuple[int, int]:
    g = math.gcd(in_rate, out_rate)
    return out_rate // g, in_rate // g  # up, down


def resample(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample a whole buffer (TTS output to the caller's rate).

    scipy's polyphase filter with a Kaiser window; its group delay is
    compensated, so the output is aligned with the input.
    """
    if in_rate == out_rate or not pcm:
        return pcm
    from scipy.signal import resample_poly

    up, down = _ratio(in_rate, out_rate)
    out = resample_poly(to_array(pcm).astype(np.float64), up, down)
    return to_bytes(out)


@lru_cache(maxsize=16)
def _polyphase(up: int, down: int, taps_per_phase: int) -> np.ndarray:
    """Windowed-sinc low-pass at min(in, out) Nyquist, split into `up` phases.

    Row p holds h[p], h[p+up], h[p+2·up] … so that one output sample is a dot
    product of one row with the newest `taps_per_phase` input samples.
    """
    from scipy.signal import firwin

    n = up * taps_per_phase
    cutoff = 1.0 / max(up, down)  # relative to the upsampled Nyquist
    h = firwin(n, cutoff * 0.95, window=("kaiser", 8.0)) * up
    return h.reshape(taps_per_phase, up).T.copy()  # (up, taps)


class StreamResampler:
    """Exact streaming polyphase resampler for 20 ms frames.

    Keeps the last input samples between calls, so feeding a signal in
    chunks gives the same output as feeding it at once (no clicks at frame
    boundaries, unlike resampling each frame separately). The filter delays
    the signal by ``taps_per_phase / 2`` input samples (2 ms at 8 kHz).
    """

    def __init__(self, in_rate: int, out_rate: int, taps_per_phase: int = 32) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self.up, self.down = _ratio(in_rate, out_rate)
        self.taps = taps_per_phase
        self.bank = _polyphase(self.up, self.down, taps_per_phase)
        self.history = np.zeros(taps_per_phase - 1, dtype=np.float64)
        self.seen = 0  # input samples received so far
        self.next_t = 0  # position of the next output sample on the upsampled grid

    def process(self, pcm: bytes) -> bytes:
        if self.in_rate == self.out_rate:
            return pcm
        chunk = to_array(pcm).astype(np.float64)
        # x[k] is input sample number (seen - (taps - 1) + k).
        x = np.concatenate([self.history, chunk])
        offset = self.seen - (self.taps - 1)
        self.seen += len(chunk)
        # Output at upsampled position t needs input up to i0 = t // up.
        last_t = self.seen * self.up - 1
        if self.next_t > last_t:
            out = np.zeros(0)
        else:
            pos = np.arange(self.next_t, last_t + 1, self.down)
            self.next_t = int(pos[-1]) + self.down
            newest = pos // self.up - offset
            idx = newest[:, None] - np.arange(self.taps)[None, :]
            out = np.einsum("ij,ij->i", x[idx], self.bank[pos % self.up])
        self.history = x[len(x) - (self.taps - 1):]
        return to_bytes(out)
