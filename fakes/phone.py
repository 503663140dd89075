"""A telephone in software: an AudioSocket client, and a scripted assistant.

Used by tests/voice and bench/voice_*.py. :class:`PhoneClient` speaks the
protocol as Asterisk does (UUID first, 20 ms audio frames in real time,
DTMF digits, hang-up) and records every frame the server sends with its
arrival time. :class:`ScriptedAssistant` is a tiny HTTP server with the
voice webhook's contract for tests that need no trained model.
"""
from __future__ import annotations

import asyncio
import bisect
import json
import struct
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from voice.audio import frame_bytes, rms_dbfs, silence
from voice.audiosocket import KIND_AUDIO, KIND_DTMF, KIND_HANGUP, KIND_UUID, encode

FRAME = frame_bytes(8000)  # 320 bytes


@dataclass
class Received:
    at: float
    pcm: bytes
    level: float = float("-inf")  # dBFS, computed once on arrival


class PhoneClient:
    def __init__(self, host: str, port: int, call_uuid: Optional[str] = None) -> None:
        self.host, self.port = host, port
        self.call_uuid = call_uuid or str(uuidlib.uuid4())
        self.frames: List[Received] = []
        self.hangup_at: Optional[float] = None
        self.closed = asyncio.Event()
        self._new_frame = asyncio.Event()
        self.reader: Optional[asyncio.StreamReader] = None
        self.writer: Optional[asyncio.StreamWriter] = None
        self._task: Optional[asyncio.Task] = None

    async def connect(self, send_uuid: bool = True) -> "PhoneClient":
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self._task = asyncio.create_task(self._read())
        if send_uuid:
            await self.send_raw(encode(KIND_UUID, uuidlib.UUID(self.call_uuid).bytes))
        return self

    async def _read(self) -> None:
        try:
            while True:
                header = await self.reader.readexactly(3)
                kind, length = struct.unpack(">BH", header)
                payload = await self.reader.readexactly(length) if length else b""
                if kind == KIND_AUDIO:
                    self.frames.append(Received(time.monotonic(), payload, rms_dbfs(payload)))
                    self._new_frame.set()
                elif kind == KIND_HANGUP:
                    self.hangup_at = time.monotonic()
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()
            self._new_frame.set()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_audio(self, pcm: bytes, paced: bool = True) -> Tuple[float, float]:
        """Send PCM in 20 ms frames at real time; returns (first, last) send times."""
        if len(pcm) % FRAME:
            pcm += bytes(FRAME - len(pcm) % FRAME)
        start = time.monotonic()
        first = last = start
        for i, offset in enumerate(range(0, len(pcm), FRAME)):
            if paced:
                delay = start + i * 0.02 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if self.closed.is_set():
                break
            last = time.monotonic()
            if i == 0:
                first = last
            try:
                await self.send_raw(encode(KIND_AUDIO, pcm[offset:offset + FRAME]))
            except ConnectionError:
                break
        return first, last

    async def send_silence(self, seconds: float) -> None:
        await self.send_audio(silence(seconds, 8000))

    async def keep_line_open(self, seconds: float) -> None:
        """What a phone does between turns: silence frames, so the line is live."""
        await self.send_silence(seconds)

    async def dtmf(self, keys: str, gap: float = 0.12) -> None:
        for key in keys:
            await self.send_raw(encode(KIND_DTMF, key.encode("ascii")))
            await asyncio.sleep(gap)

    async def hangup(self) -> None:
        try:
            await self.send_raw(encode(KIND_HANGUP))
        except ConnectionError:
            pass

    async def close(self) -> None:
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        if self._task:
            await asyncio.wait_for(asyncio.shield(self.closed.wait()), 5)

    # --- what was heard -------------------------------------------------------------

    def voiced(self, since: float = 0.0, floor_dbfs: float = -50.0) -> List[Received]:
        start = bisect.bisect_left(self.frames, since, key=lambda f: f.at)
        return [f for f in self.frames[start:] if f.level > floor_dbfs]

    async def wait_audio(self, since: float = 0.0, timeout: float = 20.0) -> float:
        """Arrival time of the first voiced frame after ``since``."""
        deadline = time.monotonic() + timeout
        while True:
            heard = self.voiced(since)
            if heard:
                return heard[0].at
            if self.closed.is_set() or time.monotonic() > deadline:
                raise TimeoutError("no audio from the server")
            self._new_frame.clear()
            try:
                await asyncio.wait_for(self._new_frame.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    async def wait_quiet(self, gap: float = 0.3, timeout: float = 60.0) -> float:
        """Wait until no frame arrived for ``gap`` seconds; returns the last frame's time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.frames[-1].at if self.frames else 0.0
            if self.frames and time.monotonic() - last >= gap:
                return last
            if self.closed.is_set():
                return last
            await asyncio.sleep(0.02)
        raise TimeoutError("the server kept talking")


@dataclass
class ScriptedAssistant:
    """The voice webhook's contract, answering from a function of (sender, message)."""

    answer: Callable[[str, str], Tuple[List[Dict], Dict]]
    received: List[Tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""
    _runner: object = None

    async def start(self) -> str:
        from aiohttp import web

        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            self.received.append((body["sender"], body["message"]))
            if self.delay:
                await asyncio.sleep(self.delay)
            messages, state = self.answer(body["sender"], body["message"])
            return web.json_response(messages + [{"custom": {"voice_state": state}}])

        app = web.Application()
        app.router.add_post("/webhooks/voice/webhook", webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def messages_of(self, sender: str) -> List[str]:
        return [m for s, m in self.received if s == sender]


def hotline_script(greeting: str) -> Callable[[str, str], Tuple[List[Dict], Dict]]:
    """A small status-check dialogue, like the real assistant's, for protocol tests."""
    slots: Dict[str, Dict] = {}

    def answer(sender: str, message: str):
        state = slots.setdefault(sender, {"requested_slot": None})
        if message == "/greet":
            return [{"text": greeting}], {"requested_slot": None, "intent": "greet"}
        if message == "/request_operator":
            return [{"text": "Соединяю с оператором."}], {"requested_slot": None, "intent": "request_operator"}
        if message.startswith("/check_application_status"):
            payload = message[len("/check_application_status"):]
            if payload:
                state["number"] = json.loads(payload)["application_number"]
                state["requested_slot"] = "birth_date"
                return [{"text": "Назовите дату рождения."}], dict(state, intent="check_application_status")
            state["requested_slot"] = "application_number"
            return [{"text": "Назовите номер заявления."}], dict(state, intent="check_application_status")
        if state.get("requested_slot") == "application_number":
            state["number"], state["requested_slot"] = message, "birth_date"
            return [{"text": "Назовите дату рождения."}], dict(state, intent="inform")
        if state.get("requested_slot") == "birth_date":
            state["requested_slot"] = None
            return ([{"text": f"Заявление {state.get('number')} в обработке."}],
                    {"requested_slot": None, "intent": "inform"})
        return [{"text": "Понятно."}], {"requested_slot": None, "intent": "inform"}

    return answer
