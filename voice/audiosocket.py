"""Asterisk AudioSocket server: one phone conversation per TCP connection.

Protocol (Asterisk ``AudioSocket()`` application, res_audiosocket): every
message is a 1-byte type, a 2-byte big-endian payload length and the
payload.

====  =============================================================
type  payload
====  =============================================================
0x00  hang-up (no payload); the server sends it to end the call too
0x01  call UUID, 16 bytes — always the first message
0x03  DTMF digit, 1 ASCII byte (``0``–``9``, ``*``, ``#``, ``A``–``D``)
0x10  audio: signed 16-bit little-endian mono PCM, 8 kHz, 20 ms frames
0xff  error (Asterisk's code in the payload)
====  =============================================================

A connection that breaks the protocol — unknown type, a first message that
is not the UUID, an audio payload longer than ``MAX_AUDIO_PAYLOAD`` or of
odd length — is answered with a hang-up and closed; other calls go on.

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

Run: ``python -m voice.audiosocket`` (settings: voice/config.py).
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import struct
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from voice.audio import PHONE_RATE

logger = logging.getLogger(__name__)

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_AUDIO = 0x10
KIND_ERROR = 0xFF
KNOWN_KINDS = {KIND_HANGUP, KIND_UUID, KIND_DTMF, KIND_AUDIO, KIND_ERROR}

MAX_AUDIO_PAYLOAD = 1920  # 120 ms at 8 kHz: Asterisk sends 20 ms (320 bytes)
MAX_OTHER_PAYLOAD = 64
FIRST_MESSAGE_TIMEOUT_S = 5.0
DISPOSITION_TTL_S = 600.0


class ProtocolError(Exception):
    pass


def encode(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack(">BH", kind, len(payload)) + payload


async def read_message(reader: asyncio.StreamReader) -> Tuple[int, bytes]:
    header = await reader.readexactly(3)
    kind, length = struct.unpack(">BH", header)
    if kind not in KNOWN_KINDS:
        raise ProtocolError(f"unknown message type 0x{kind:02x}")
    limit = MAX_AUDIO_PAYLOAD if kind == KIND_AUDIO else MAX_OTHER_PAYLOAD
    if length > limit:
        raise ProtocolError(f"message type 0x{kind:02x} too long: {length} bytes")
    payload = await reader.readexactly(length) if length else b""
    if kind == KIND_AUDIO and length % 2:
        raise ProtocolError("audio payload of odd length")
    return kind, payload


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


# --- the service -------------------------------------------------------------------

class VoiceService:
    """Everything shared by the calls of one process: models, synthesiser, assistant client."""

    def __init__(self, config=None, recognizer_model=None, synthesizer=None, rasa=None,
                 asr_workers: Optional[int] = None, settings=None) -> None:
        from voice.config import VoiceConfig
        from voice.dialogue import DialogueSettings
        from voice.rasa_client import VoiceRasaClient

        self.config = config or VoiceConfig()
        self.asr_model = recognizer_model
        self.rasa = rasa or VoiceRasaClient(self.config.rasa_url, self.config.rasa_channel)
        self.synth = synthesizer or self._synthesizer()
        self.executor = ThreadPoolExecutor(max_workers=asr_workers or 2, thread_name_prefix="asr")
        self.settings = settings or DialogueSettings(no_input_s=self.config.no_input_s,
                                                     barge_in_ms=self.config.barge_in_ms)

    def _synthesizer(self):
        from pathlib import Path

        from voice import prompts
        from voice.tts import AudioCache, Synthesizer, create_engine

        cache = AudioCache(directory=Path(self.config.tts_cache) if self.config.tts_cache else None)
        synth = Synthesizer(create_engine(self.config.tts), PHONE_RATE, cache)
        synth.warm(prompts.ALL)
        return synth

    def session(self, call_id: str, write):
        from voice.asr import StreamingRecognizer
        from voice.dialogue import CallSession

        recognizer = None
        if self.asr_model is not None:
            recognizer = StreamingRecognizer(self.asr_model, PHONE_RATE,
                                             end_silence_ms=self.config.end_silence_ms)
        return CallSession(call_id, self.rasa, self.synth, write, recognizer, self.settings,
                           asr_executor=self.executor)


def load_asr_model(config):
    from voice.asr import VoskModel

    return VoskModel(config.vosk_model, config.asr_rate)


def warm_asr(model, synth, count: int) -> None:
    """Pool a few recognisers that have decoded speech once (their first utterance is slow)."""
    if count <= 0:
        return
    speech = synth.engine.synthesize("Здравствуйте, я хочу узнать статус заявления. Один два три.")
    model.warm(speech.at(model.sample_rate).pcm, count)


async def serve(config) -> None:
    from hotline import settings

    service = VoiceService(config, recognizer_model=load_asr_model(config))
    warm_asr(service.asr_model, service.synth, settings.get("VOICE_ASR_WARM"))
    from voice import prompts

    server = AudioSocketServer(service.session, config.host, config.port, allowed_peers=config.allowed_peers,
                               max_calls=config.max_calls, busy_audio=service.synth.speak_all(prompts.BUSY))
    await server.start()
    if config.http_port:
        port = await server.start_http(config.host, config.http_port)
        logger.info("dispositions on http://%s:%s/calls/<uuid>/disposition", config.host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
        await service.rasa.close()


def main(argv=None) -> None:
    from voice.config import VoiceConfig

    parser = argparse.ArgumentParser(description="Asterisk AudioSocket server for the hotline assistant")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--http-port", type=int)
    parser.add_argument("--rasa-url")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = VoiceConfig()
    for name in ("host", "port", "http_port", "rasa_url"):
        if getattr(args, name) is not None:
            setattr(config, name, getattr(args, name))
    try:
        asyncio.run(serve(config))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
