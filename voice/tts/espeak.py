"""eSpeak NG: the always-available default voice (formant synthesis, GPL-3.0).

It runs the ``espeak-ng`` program (Debian package ``espeak-ng``) once per
sentence and reads the WAV it writes to standard output. Robotic but
intelligible, fast (RTF ≈ 0.01 here) and needs no model file.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from typing import Optional

from voice.audio import Audio
from voice.tts.base import EngineUnavailable, TTSEngine


class EspeakEngine(TTSEngine):
    name = "espeak"

    def __init__(self, voice: str = "ru", speed: int = 165, pitch: int = 50, binary: Optional[str] = None,
                 timeout: float = 30.0) -> None:
        self.binary = binary or shutil.which("espeak-ng")
        if not self.binary:
            raise EngineUnavailable(
                "espeak-ng is not installed: the default voice runs the espeak-ng program "
                "(Debian/Ubuntu: apt-get install espeak-ng)")
        self.voice, self.speed, self.pitch, self.timeout = voice, speed, pitch, timeout
        self.sample_rate = 22050

    @property
    def key(self) -> str:
        return f"espeak:{self.voice}:{self.speed}:{self.pitch}"

    def synthesize(self, text: str) -> Audio:
        result = subprocess.run(
            [self.binary, "-v", self.voice, "-s", str(self.speed), "-p", str(self.pitch), "--stdout", "--stdin"],
            input=text.encode("utf-8"), capture_output=True, timeout=self.timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"espeak-ng failed ({result.returncode}): {result.stderr.decode(errors='replace')[:200]}")
        return parse_streamed_wav(result.stdout)


def parse_streamed_wav(data: bytes) -> Audio:
    """espeak-ng's --stdout WAV has placeholder sizes (it streams): read the
    format chunk and take everything after the data header."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError("espeak-ng did not write a WAV")
    pos, rate = 12, 22050
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", data[pos + 10:pos + 16])
            if channels != 1:
                raise RuntimeError("espeak-ng wrote more than one channel")
        elif chunk == b"data":
            pcm = data[pos + 8:]
            return Audio(pcm[: len(pcm) // 2 * 2], rate)
        pos += 8 + size
    raise RuntimeError("espeak-ng's WAV has no data chunk")
