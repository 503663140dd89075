"""Paced playback: audio leaves in 20 ms frames at the speed it is heard.

Asterisk plays what it receives; sending a whole answer at once would fill
its buffers, and the caller could no longer interrupt it. The player keeps
at most ``lead_frames`` ahead of real time, so :meth:`stop` (barge-in) cuts
the sound within one or two frames.
"""
from __future__ import annotations

import asyncio
import collections
import time
from typing import Awaitable, Callable, Deque, Optional

from voice.audio import Audio, FRAME_MS, frame_bytes


class Player:
    def __init__(self, write: Callable[[bytes], Awaitable[None]], rate: int, frame_ms: int = FRAME_MS,
                 lead_frames: int = 2) -> None:
        self.write, self.rate, self.frame_ms = write, rate, frame_ms
        self.frame_len = frame_bytes(rate, frame_ms)
        self.lead_s = lead_frames * frame_ms / 1000
        self.frames: Deque[bytes] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: Optional[asyncio.Task] = None
        self.sent_frames = 0
        self.first_frame_at: Optional[float] = None  # monotonic time of the first frame of the current answer
        self.stopped_at: Optional[float] = None
        self.on_start: Optional[Callable[[float], None]] = None

    @property
    def busy(self) -> bool:
        return bool(self.frames) or not self._idle.is_set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="player")

    def enqueue(self, audio: Audio) -> None:
        if audio.rate != self.rate:
            audio = audio.at(self.rate)
        pcm = audio.pcm
        if len(pcm) % self.frame_len:
            pcm += bytes(self.frame_len - len(pcm) % self.frame_len)
        for i in range(0, len(pcm), self.frame_len):
            self.frames.append(pcm[i:i + self.frame_len])
        self._idle.clear()
        self._wake.set()

    def stop(self) -> bool:
        """Drop what has not been sent; True if something was playing."""
        playing = self.busy
        self.frames.clear()
        if playing:
            self.stopped_at = time.monotonic()
        self._wake.set()
        return playing

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        self.frames.clear()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing anyway
                pass

    async def _run(self) -> None:
        frame_s = self.frame_ms / 1000
        while True:
            if not self.frames:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            start = time.monotonic()
            if self.first_frame_at is None or self._idle.is_set():
                self.first_frame_at = start
            if self.on_start:
                self.on_start(start)
            sent = 0
            while self.frames:
                due = start + sent * frame_s - self.lead_s
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                    if not self.frames:
                        break
                await self.write(self.frames.popleft())
                sent += 1
                self.sent_frames += 1
            # let the last frames play out before reporting idle
            remaining = start + sent * frame_s - time.monotonic()
            if remaining > 0 and not self.frames:
                try:
                    await asyncio.wait_for(self._wait_new(), remaining)
                except asyncio.TimeoutError:
                    pass

    async def _wait_new(self) -> None:
        self._wake.clear()
        await self._wake.wait()
