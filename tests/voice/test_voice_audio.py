"""Resampling and levels."""
from __future__ import annotations

import numpy as np

from voice.audio import Audio, StreamResampler, read_wav, resample, rms_dbfs, to_array, to_bytes, wav_bytes


def tone(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return to_bytes(amplitude * np.sin(2 * np.pi * freq * t))


def level_at(pcm: bytes, rate: int, freq: float) -> float:
    x = to_array(pcm).astype(float)[rate // 10:]  # skip the filter's start
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return 20 * np.log10(spectrum[np.argmin(abs(freqs - freq))] / spectrum.max() + 1e-12)


def test_streaming_8k_to_16k_equals_one_shot_and_keeps_length():
    pcm = tone(1000, 8000)
    one_shot = StreamResampler(8000, 16000).process(pcm)
    r = StreamResampler(8000, 16000)
    streamed = b"".join(r.process(pcm[i:i + 320]) for i in range(0, len(pcm), 320))
    assert streamed == one_shot
    assert len(streamed) == 2 * len(pcm)


def test_upsampling_adds_no_images_above_the_telephone_band():
    pcm = to_bytes(to_array(tone(1000, 8000)).astype(float) + to_array(tone(3400, 8000)))
    r = StreamResampler(8000, 16000)
    out = b"".join(r.process(pcm[i:i + 320]) for i in range(0, len(pcm), 320))
    assert level_at(out, 16000, 1000) > -1
    assert level_at(out, 16000, 3400) > -3
    assert level_at(out, 16000, 4600) < -50  # the image of 3400 Hz
    assert level_at(out, 16000, 7000) < -50


def test_downsampling_for_the_phone_removes_what_8k_cannot_carry():
    pcm = to_bytes(to_array(tone(1000, 22050)).astype(float) + to_array(tone(6000, 22050)))
    out = resample(pcm, 22050, 8000)
    assert abs(len(out) / 2 - 8000) <= 1
    assert level_at(out, 8000, 1000) > -1
    assert level_at(out, 8000, 2000) < -40  # 6000 Hz would alias to 2000 Hz


def test_wav_round_trip_and_levels():
    audio = Audio(tone(440, 8000, 0.5), 8000)
    back = read_wav(wav_bytes(audio))
    assert back == audio
    assert -20 < rms_dbfs(audio.pcm) < -10
    assert rms_dbfs(bytes(320)) == float("-inf")
