"""A cache of synthesised sentences.

Fixed answers («Назовите, пожалуйста, номер заявления…», the greeting,
re-prompts) are said again and again: synthesising them once saves the
synthesis time on every call. Entries are keyed by the engine's voice key,
the output rate and the text; the memory tier is an LRU bounded in bytes,
and an optional directory keeps them across restarts (``VOICE_TTS_CACHE``).
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Optional

from voice.audio import Audio


class AudioCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024, directory: Optional[Path] = None) -> None:
        self.max_bytes = max_bytes
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._items: "OrderedDict[str, Audio]" = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(voice: str, rate: int, text: str) -> str:
        return hashlib.sha256(f"{voice}\0{rate}\0{text}".encode("utf-8")).hexdigest()

    def get(self, key: str) -> Optional[Audio]:
        with self._lock:
            audio = self._items.get(key)
            if audio is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return audio
        if self.directory:
            path = self.directory / f"{key}.pcm"
            if path.is_file():
                data = path.read_bytes()
                audio = Audio(data[4:], int.from_bytes(data[:4], "little"))
                self._remember(key, audio)
                with self._lock:
                    self.hits += 1
                return audio
        with self._lock:
            self.misses += 1
        return None

    def put(self, key: str, audio: Audio) -> None:
        self._remember(key, audio)
        if self.directory:
            tmp = self.directory / f"{key}.tmp"
            tmp.write_bytes(audio.rate.to_bytes(4, "little") + audio.pcm)
            tmp.replace(self.directory / f"{key}.pcm")

    def _remember(self, key: str, audio: Audio) -> None:
        size = len(audio.pcm)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old.pcm)
            self._items[key] = audio
            self._size += size
            while self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted.pcm)

    def __len__(self) -> int:
        return len(self._items)
