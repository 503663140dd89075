"""The phone server as an attacker meets it (issue 11, item 5): loopback by
default, connections only from the PBX's addresses, a cap on concurrent
calls with a polite busy prompt, and the voice channel behind the same
message guard as the other channels."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import List, Optional

import pytest
import yaml

from voice import prompts
from voice.audio import PHONE_RATE
from voice.audiosocket import AudioSocketServer
from fakes.phone import FRAME, PhoneClient

ROOT = Path(__file__).resolve().parents[2]


class HeldCall:
    """A call that goes on until the caller hangs up (no recogniser, no assistant)."""

    def __init__(self, call_id: str, write) -> None:
        self.call_id, self.write = call_id, write
        self.ended = asyncio.Event()

    async def run(self) -> str:
        await self.ended.wait()
        return "caller_hangup"

    def on_audio(self, pcm: bytes) -> None:
        pass

    def on_dtmf(self, key: str) -> None:
        pass

    def on_hangup(self) -> None:
        self.ended.set()


class Calls:
    def __init__(self) -> None:
        self.started: List[HeldCall] = []

    def __call__(self, call_id: str, write) -> HeldCall:
        call = HeldCall(call_id, write)
        self.started.append(call)
        return call


def run(coro, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def busy_prompt():
    from voice.tts import AudioCache, Synthesizer, create_engine

    return Synthesizer(create_engine("espeak"), PHONE_RATE, AudioCache(directory=None)).speak_all(prompts.BUSY)


def own_address() -> Optional[str]:
    """This machine's address on its network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_defaults_are_loopback_and_loopback_peers(monkeypatch):
    from voice.config import VoiceConfig

    for name in ("VOICE_HOST", "VOICE_ALLOWED_PEERS", "VOICE_MAX_CALLS"):
        monkeypatch.delenv(name, raising=False)
    config = VoiceConfig(vosk_model=Path("unused"))
    assert config.host == "127.0.0.1"
    assert set(config.allowed_peers) == {"127.0.0.1", "::1"}
    assert 1 <= config.max_calls <= 16


async def _refused(server: AudioSocketServer, calls: Calls, host: str) -> None:
    await server.start()
    try:
        client = await PhoneClient(host, server.port).connect()
        await asyncio.wait_for(client.closed.wait(), 5)
        await asyncio.sleep(0.2)
        assert calls.started == [] and client.frames == []  # no call, no recogniser, not a word
        assert server.peers_refused == 1 and server.dispositions.get(client.call_uuid) is None
    finally:
        await server.stop()


def test_a_connection_from_an_address_not_allowed_is_closed_at_once():
    calls = Calls()
    run(_refused(AudioSocketServer(calls, "127.0.0.1", 0, allowed_peers=["192.0.2.10"]), calls, "127.0.0.1"))


def test_listening_beyond_loopback_still_admits_only_the_allowed_peers():
    address = own_address()
    assert address, "the test machine has a network address"
    calls = Calls()
    # A deployer opened the port (VOICE_HOST=0.0.0.0) but the PBX list is still loopback.
    run(_refused(AudioSocketServer(calls, "0.0.0.0", 0), calls, address))


def test_over_the_call_cap_the_caller_hears_busy_and_is_hung_up():
    busy = busy_prompt()
    # The caller is told where else to ask, never to call the line again.
    assert "все линии заняты" in prompts.BUSY and "чат" in prompts.BUSY and "перезвон" not in prompts.BUSY

    async def scenario():
        calls = Calls()
        server = AudioSocketServer(calls, "127.0.0.1", 0, max_calls=2, busy_audio=busy)
        await server.start()
        try:
            first = await PhoneClient("127.0.0.1", server.port).connect()
            second = await PhoneClient("127.0.0.1", server.port).connect()
            await asyncio.sleep(0.3)
            assert len(calls.started) == 2
            third = await PhoneClient("127.0.0.1", server.port).connect()
            line = asyncio.create_task(third.keep_line_open(busy.seconds + 10))
            await asyncio.wait_for(third.closed.wait(), busy.seconds + 10)
            line.cancel()
            assert third.hangup_at is not None
            heard = b"".join(f.pcm for f in third.frames)
            expected = busy.pcm + bytes(-len(busy.pcm) % FRAME)
            assert heard == expected  # the whole busy prompt, then the hang-up
            assert server.dispositions.get(third.call_uuid) == "busy" and server.calls_busy == 1
            assert len(calls.started) == 2  # no session for the third caller
            # The calls in progress go on; once one ends, a new caller gets through.
            assert not first.closed.is_set() and not second.closed.is_set()
            await first.hangup()
            await asyncio.wait_for(first.closed.wait(), 5)
            await asyncio.sleep(0.2)
            fourth = await PhoneClient("127.0.0.1", server.port).connect()
            await asyncio.sleep(0.3)
            assert len(calls.started) == 3 and not fourth.closed.is_set()
            for client in (second, fourth):
                await client.hangup()
                await asyncio.wait_for(client.closed.wait(), 5)
        finally:
            await server.stop()

    run(scenario(), timeout=60)


def test_the_voice_channel_has_the_same_guard_as_the_others():
    from rasa.core.channels.channel import UserMessage

    from hotline.rasa import channels as prod_channels
    from hotline.rasa.channels import TOO_LONG_TEXT, GuardedChannelMixin, guard
    from voice.channel import VoiceInput, VoiceOutput

    listed = yaml.safe_load((ROOT / "credentials.yml").read_text())  # every profile's channels
    assert "hotline.rasa.channels.GuardedVoiceInput" in listed and "voice.channel.VoiceInput" not in listed
    guarded = prod_channels.GuardedVoiceInput
    assert issubclass(guarded, GuardedChannelMixin) and issubclass(guarded, VoiceInput)
    assert guarded.name() == "voice"

    handled: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        handled.append(message)

    prod_channels.reset_limits()
    collector = VoiceOutput()
    run(guard(on_new_message, "voice")(UserMessage("алло " * 400, collector, "phone_1", input_channel="voice")))
    assert handled == [] and collector.messages[0]["text"] == TOO_LONG_TEXT.format(limit=1000)
