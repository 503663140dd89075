"""The AudioSocket server: one phone conversation per TCP connection.

A connection that breaks the protocol (voice/audiosocket/protocol.py) — a
first message that is not the UUID among others — is answered with a
hang-up and closed; other calls go on.

When a call ends from our side, its *disposition* (``operator`` or
``hangup``) is kept for ten minutes and served over HTTP
(``GET /calls/<uuid>/disposition``) so that the dialplan, after
``AudioSocket()`` returns, can send the caller to the operators' queue
(docs/voice.md has the dialplan).

Who may call: the server listens on loopback unless ``VOICE_HOST`` says
otherwise, and accepts connections only from the PBX addresses in
``VOICE_ALLOWED_PEERS`` (addresses or networks; others are closed at once,
before any recogniser is spent). Each call holds a recogniser and a share of
the CPU, so at most ``VOICE_MAX_CALLS`` run at once: a call over the cap
hears a short busy prompt (``prompts.BUSY``), is hung up and gets the
disposition ``busy``.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from voice.audio import PHONE_RATE
from voice.audiosocket.protocol import (KIND_AUDIO, KIND_DTMF, KIND_ERROR, KIND_HANGUP, KIND_UUID,
                                        ProtocolError, encode, read_message)

# The name the server logged under before it became a package: log filters keep working.
logger = logging.getLogger("voice.audiosocket")

FIRST_MESSAGE_TIMEOUT_S = 5.0
DISPOSITION_TTL_S = 600.0


class Dispositions:
    """How recent calls ended, for the dialplan's HTTP lookup."""

    def __init__(self, ttl: float = DISPOSITION_TTL_S) -> None:
        self.ttl = ttl
        self._items: Dict[str, Tuple[str, float]] = {}

    def set(self, call_id: str, disposition: str) -> None:
        now = time.monotonic()
        self._items[call_id] = (disposition, now)
        for key, (_, at) in list(self._items.items()):
            if now - at > self.ttl:
                del self._items[key]

    def get(self, call_id: str) -> Optional[str]:
        item = self._items.get(call_id)
        return item[0] if item else None


@dataclass
class CallRecord:
    call_id: str
    disposition: str
    session: object


def peer_networks(peers: Iterable[str]) -> List[ipaddress._BaseNetwork]:
    """``127.0.0.1``, ``10.0.0.0/24``, ``::1`` → networks; a bad entry is a start-up error."""
    return [ipaddress.ip_network(p.strip(), strict=False) for p in peers if p and p.strip()]


def peer_allowed(peer, networks: List[ipaddress._BaseNetwork]) -> bool:
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except (TypeError, IndexError, ValueError):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


class AudioSocketServer:
    """Accepts calls; ``session_factory(call_id, write)`` builds each conversation.

    ``allowed_peers``: addresses or networks the PBX connects from;
    ``max_calls``: concurrent calls, beyond which ``busy_audio`` is played
    and the call hung up."""

    def __init__(self, session_factory: Callable, host: str = "127.0.0.1", port: int = 0,
                 on_call_end: Optional[Callable[[CallRecord], None]] = None,
                 allowed_peers: Iterable[str] = ("127.0.0.1", "::1"), max_calls: int = 4,
                 busy_audio=None) -> None:
        self.session_factory = session_factory
        self.host, self.port = host, port
        self.on_call_end = on_call_end
        self.networks = peer_networks(allowed_peers)
        self.max_calls = max(1, int(max_calls))
        self.busy_audio = busy_audio
        self.dispositions = Dispositions()
        self.active: Dict[str, object] = {}
        self.protocol_errors = 0
        self.calls_served = 0
        self.calls_busy = 0
        self.peers_refused = 0
        self._calls = 0  # connections holding a call slot (from accept, before the UUID too)
        self._server: Optional[asyncio.base_events.Server] = None
        self._http_runner = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("AudioSocket server on %s:%s", self.host, self.port)

    async def start_http(self, host: str, port: int) -> int:
        """GET /calls/<uuid>/disposition → operator | hangup | caller_hangup | unknown; GET /health."""
        from aiohttp import web

        async def disposition(request: web.Request) -> web.Response:
            return web.Response(text=self.dispositions.get(request.match_info["call"].lower()) or "unknown")

        async def health(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok", "active_calls": len(self.active),
                                      "calls_served": self.calls_served, "calls_busy": self.calls_busy,
                                      "peers_refused": self.peers_refused})

        app = web.Application()
        app.router.add_get("/calls/{call}/disposition", disposition)
        app.router.add_get("/health", health)
        self._http_runner = web.AppRunner(app, access_log=None)
        await self._http_runner.setup()
        site = web.TCPSite(self._http_runner, host, port)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the bound port when 0 was asked

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
        if self._http_runner:
            await self._http_runner.cleanup()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if not peer_allowed(peer, self.networks):
            self.peers_refused += 1
            logger.warning("AudioSocket connection from an address not in VOICE_ALLOWED_PEERS refused")
            await self._close(writer, hangup=False)
            return
        if self._calls >= self.max_calls:
            await self._busy(reader, writer)
            return
        self._calls += 1
        try:
            await self._call(reader, writer, peer)
        finally:
            self._calls -= 1

    async def _busy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Over the cap: the busy prompt, then hang up. Costs no recogniser and no assistant turn."""
        from voice.player import Player

        self.calls_busy += 1
        logger.warning("call refused: %d calls already (VOICE_MAX_CALLS)", self.max_calls)

        async def write_audio(frame: bytes) -> None:
            writer.write(encode(KIND_AUDIO, frame))
            await writer.drain()

        async def drain() -> None:  # the caller's audio, unread, would fill the socket buffers
            while True:
                kind, _ = await read_message(reader)
                if kind in (KIND_HANGUP, KIND_ERROR):
                    return

        drainer = None
        try:
            kind, payload = await asyncio.wait_for(read_message(reader), FIRST_MESSAGE_TIMEOUT_S)
            if kind != KIND_UUID or len(payload) != 16:
                raise ProtocolError("first message must be the 16-byte UUID")
            self.dispositions.set(str(uuid.UUID(bytes=payload)), "busy")
            if self.busy_audio is not None:
                drainer = asyncio.create_task(drain())
                player = Player(write_audio, PHONE_RATE)
                player.start()
                player.enqueue(self.busy_audio)
                try:
                    await asyncio.wait_for(player.wait_idle(), self.busy_audio.seconds + 5)
                finally:
                    await player.close()
        except (ProtocolError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError,
                ConnectionError, OSError, RuntimeError):
            pass
        finally:
            if drainer is not None:
                drainer.cancel()
            await self._close(writer)

    @staticmethod
    async def _close(writer: asyncio.StreamWriter, hangup: bool = True) -> None:
        try:
            if hangup and not writer.is_closing():
                writer.write(encode(KIND_HANGUP))
                await asyncio.wait_for(writer.drain(), 1)
        except (ConnectionError, RuntimeError, asyncio.TimeoutError, OSError):
            pass
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1)
        except (ConnectionError, asyncio.TimeoutError, OSError):
            pass

    async def _call(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer) -> None:
        call_id = None
        session = None
        run_task = pump_task = None
        closed = False

        async def write_audio(frame: bytes) -> None:
            nonlocal closed
            if closed:
                return
            try:
                writer.write(encode(KIND_AUDIO, frame))
                await writer.drain()
            except (ConnectionError, RuntimeError):
                closed = True
                if session is not None:
                    session.on_hangup()

        try:
            kind, payload = await asyncio.wait_for(read_message(reader), FIRST_MESSAGE_TIMEOUT_S)
            if kind != KIND_UUID or len(payload) != 16:
                raise ProtocolError(f"first message must be the 16-byte UUID, got type 0x{kind:02x}")
            call_id = str(uuid.UUID(bytes=payload))
            session = self.session_factory(call_id, write_audio)
            self.active[call_id] = session
            run_task = asyncio.create_task(session.run(), name=f"call-{call_id}")
            pump_task = asyncio.create_task(self._pump(reader, session), name=f"pump-{call_id}")
            done, _ = await asyncio.wait({run_task, pump_task}, return_when=asyncio.FIRST_COMPLETED)
            if pump_task in done and pump_task.exception() is not None:
                raise pump_task.exception()
            if pump_task in done:  # the caller hung up: let the session wind down
                session.on_hangup()
                await asyncio.wait_for(asyncio.shield(run_task), 5)
            disposition = run_task.result() if run_task.done() and not run_task.cancelled() else "caller_hangup"
            self.dispositions.set(call_id, disposition)
            if self.on_call_end:
                self.on_call_end(CallRecord(call_id, disposition, session))
            logger.info("call %s ended: %s", call_id, disposition)
        except (ProtocolError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as error:
            self.protocol_errors += 1
            logger.warning("call %s from %s closed: %s", call_id or "?", peer, error)
            if call_id:
                self.dispositions.set(call_id, "error")
        except (ConnectionError, OSError) as error:
            logger.info("call %s: connection lost: %s", call_id or "?", error)
        except Exception:  # noqa: BLE001 - one call's failure must not stop the server
            logger.exception("call %s failed", call_id or "?")
        finally:
            for task in (pump_task, run_task):
                if task is not None and not task.done():
                    task.cancel()
                    try:
                        await task
                    except (asyncio.CancelledError, Exception):  # noqa: BLE001
                        pass
            if call_id:
                self.active.pop(call_id, None)
                self.calls_served += 1
            await self._close(writer)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, session) -> None:
        """Caller → session until hang-up, error message or end of stream."""
        while True:
            try:
                kind, payload = await read_message(reader)
            except asyncio.IncompleteReadError as error:
                if error.partial:
                    raise ProtocolError("connection closed inside a message") from error
                return  # clean close: the caller is gone
            if kind == KIND_AUDIO:
                session.on_audio(payload)
            elif kind == KIND_DTMF:
                if len(payload) != 1:
                    raise ProtocolError("DTMF payload must be one byte")
                session.on_dtmf(payload.decode("ascii", errors="replace"))
            elif kind == KIND_HANGUP:
                return
            elif kind == KIND_ERROR:
                logger.warning("Asterisk reported an error: %s", payload.hex())
                return
            elif kind == KIND_UUID:
                raise ProtocolError("a second UUID on the same connection")
