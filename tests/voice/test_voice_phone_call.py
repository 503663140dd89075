"""A whole phone call against the running assistant: the caller checks an
application's status (number and date of birth on the keypad, the surname
spoken, as the check asks for it) and hears the answer.

Starts the action server and ``rasa run`` (hotline.ops.local_servers) with the
voice channel enabled and the demo status store, then the AudioSocket
server, and calls it with a client that speaks the protocol like Asterisk.
The bot's words are checked in the tracker; what the caller heard is
checked for length (against the synthesis of those words) and pacing.
"""
from __future__ import annotations

import asyncio
import time

import pytest
import yaml

from hotline.ops.local_servers import LocalServers
from voice_fixtures import espeak  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def voice_servers(trained_model, tmp_path_factory):
    from hotline.status import init_db
    from hotline.status.demo import load_demo

    workdir = tmp_path_factory.mktemp("voice_servers")
    database_url = f"sqlite:///{workdir / 'status.db'}"
    init_db(database_url)
    load_demo(database_url)
    credentials = workdir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"connectors.rest.RestInput": None, "voice.channel.VoiceInput": None}))
    servers = LocalServers(workdir, trained_model, extra_env={"DATABASE_URL": database_url},
                           credentials=credentials)
    yield servers
    servers.stop()


class SurnameEar:
    """Stands in for Vosk (no Russian model is installed by setup): it hears
    speech by its level, like the real recogniser's endpointing, and gives
    the surname the caller said as a final result after 0.5 s of quiet."""

    in_speech = False

    def __init__(self, heard: str) -> None:
        self.heard = heard
        self.voiced = 0
        self.quiet = 0

    def accept(self, pcm: bytes):
        import audioop

        from voice.asr import ASRResult

        results = []
        for offset in range(0, len(pcm) - 319, 320):
            if audioop.rms(pcm[offset:offset + 320], 2) > 300:
                self.voiced, self.quiet, self.in_speech = self.voiced + 1, 0, True
                continue
            self.quiet += 1
            if self.voiced >= 10 and self.quiet >= 25:
                results.append(ASRResult("final", self.heard, 0.9, "silence"))
                self.voiced, self.in_speech = 0, False
        return results

    def set_grammar(self, grammar) -> None:
        pass


async def _wait_bot(session, count: int, timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while sum(who == "bot" for who, _ in session.transcript) < count:
        assert time.monotonic() < deadline, session.transcript
        await asyncio.sleep(0.02)
    return time.monotonic()


def test_status_check_by_keypad_and_spoken_surname(voice_servers, espeak):
    from voice.audio import silence
    from voice.audiosocket import AudioSocketServer, VoiceService
    from voice.config import VoiceConfig
    from fakes.phone import PhoneClient
    from voice.tts import Synthesizer

    heard = {}
    surname = espeak.synthesize("Иванов").at(8000).pcm

    async def scenario():
        service = VoiceService(VoiceConfig(rasa_url=voice_servers.url, tts_cache=""))

        def session_factory(call_id, write):
            call = service.session(call_id, write)
            call.recognizer = SurnameEar("иванов")
            return call

        server = AudioSocketServer(session_factory)
        await server.start()
        try:
            client = await PhoneClient("127.0.0.1", server.port).connect()
            line = asyncio.create_task(client.keep_line_open(120))
            await client.wait_audio(timeout=60)
            session = server.active[client.call_uuid]
            bot_said = sum(who == "bot" for who, _ in session.transcript)
            await client.dtmf("1#")  # the menu: status of an application
            await client.wait_audio(since=await _wait_bot(session, bot_said + 1))
            assert session.expect == "application_number"
            bot_said = sum(who == "bot" for who, _ in session.transcript)
            await client.dtmf("1234567890#")
            await client.wait_audio(since=await _wait_bot(session, bot_said + 1))
            assert session.expect == "full_name"
            bot_said = sum(who == "bot" for who, _ in session.transcript)
            await client.wait_quiet(0.3)
            line.cancel()  # the caller speaks instead of the open line's silence
            await client.send_audio(surname + silence(1.0, 8000))
            line = asyncio.create_task(client.keep_line_open(120))
            await client.wait_audio(since=await _wait_bot(session, bot_said + 1))
            assert session.expect == "birth_date"
            bot_said = sum(who == "bot" for who, _ in session.transcript)
            await client.dtmf("12031985#")
            asked = await _wait_bot(session, bot_said + 1)
            first = await client.wait_audio(since=asked)
            last = await client.wait_quiet(0.6, timeout=90)
            heard["frames"] = [f for f in client.frames if first <= f.at <= last]
            heard["answer"] = [text for who, text in session.transcript if who == "bot"][bot_said:]
            heard["timing"] = session.timings[-1]
            await client.dtmf("0")
            await asyncio.wait_for(client.closed.wait(), 20)
            heard["disposition"] = server.dispositions.get(client.call_uuid)
            heard["uuid"] = client.call_uuid
            heard["synth"] = service.synth
            line.cancel()
        finally:
            await server.stop()
            await service.rasa.close()

    asyncio.run(asyncio.wait_for(scenario(), 240))

    # The bot's words: what the caller was told, and the tracker's record of
    # it (the tracker store masks every date, the completion date too).
    from hotline.privacy import mask_text

    assert len(heard["answer"]) == 1
    status_answer = heard["answer"][0].strip()
    assert "1234567890 в обработке" in status_answer and "2 декабря 2026" in status_answer
    tracker = voice_servers.tracker(f"phone_{heard['uuid']}")
    bot_texts = [(e.get("text") or "").strip() for e in tracker["events"] if e["event"] == "bot"]
    assert mask_text(status_answer) in bot_texts
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    assert {e["input_channel"] for e in user_events} == {"voice"}
    # What the phone sent: the greeting, the menu key's intent, the number as
    # keyed, the surname as heard, the date as keyed, then the operator key;
    # the surname and the date are personal and stored masked.
    assert [e["text"] for e in user_events] == [
        "/greet", "/check_application_status", "1234567890", "***", "***", "/request_operator"]
    intents = [e["parse_data"]["intent"]["name"] for e in user_events]
    assert (intents[:2], intents[-1]) == (["greet", "check_application_status"], "request_operator")
    assert tracker["slots"]["application_number"] == "1234567890"
    assert heard["disposition"] == "operator"

    # What the caller heard: all of the answer, at the pace it is spoken.
    synth: Synthesizer = heard["synth"]
    expected_s = synth.speak_all(status_answer).seconds
    frames = heard["frames"]
    heard_s = len(frames) * 0.02
    assert abs(heard_s - expected_s) < 0.02 * len(synth.sentences(status_answer)) + 0.1, (heard_s, expected_s)
    wall_s = frames[-1].at - frames[0].at
    assert heard_s - 0.1 <= wall_s + 0.02 <= heard_s + 0.5, (heard_s, wall_s)
    assert expected_s > 5  # a real answer, not a beep
    timing = heard["timing"]
    assert timing.first_audio - timing.input_done < 3.0
