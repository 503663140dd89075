"""The AudioSocket server driven by a client that speaks the protocol like
Asterisk, against a scripted assistant (no trained model needed here; the
whole call against the real assistant is in test_phone_call.py)."""
from __future__ import annotations

import asyncio
import time


from voice.audio import silence
from voice.audiosocket import KIND_AUDIO, AudioSocketServer, VoiceService, encode
from voice.config import VoiceConfig
from voice.dialogue import DialogueSettings
from fakes.phone import PhoneClient, ScriptedAssistant, hotline_script

from voice_fixtures import espeak, korean_model, korean_voice  # noqa: F401 - fixtures

GREETING = ("Здравствуйте! Вы позвонили на горячую линию госуслуг. Я виртуальный помощник. "
            "Чтобы узнать статус заявления, нажмите один. Чтобы поговорить с оператором, нажмите ноль.")


class Rig:
    def __init__(self, greeting=GREETING, asr_model=None, no_input_s=8.0, delay=0.0, script=None):
        self.greeting, self.asr_model, self.no_input_s = greeting, asr_model, no_input_s
        self.assistant = ScriptedAssistant(script or hotline_script(greeting), delay=delay)

    async def __aenter__(self):
        url = await self.assistant.start()
        self.service = VoiceService(VoiceConfig(rasa_url=url, tts_cache=""), recognizer_model=self.asr_model,
                                    settings=DialogueSettings(no_input_s=self.no_input_s))
        self.sessions = []  # each call's CallSession, to read what the product decided
        self.server = AudioSocketServer(self._session, max_calls=64)
        await self.server.start()
        return self

    def _session(self, call_id, write):
        session = self.service.session(call_id, write)
        self.sessions.append(session)
        return session

    async def call(self, **kw) -> PhoneClient:
        return await PhoneClient("127.0.0.1", self.server.port, **kw).connect()

    async def __aexit__(self, *exc):
        await self.server.stop()
        await self.assistant.stop()
        await self.service.rasa.close()


def run(coro, timeout=90):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_messages(rig: Rig, client: PhoneClient, count: int, timeout: float = 20.0) -> float:
    sender = f"phone_{client.call_uuid}"
    deadline = time.monotonic() + timeout
    while len(rig.assistant.messages_of(sender)) < count:
        assert time.monotonic() < deadline, rig.assistant.messages_of(sender)
        await asyncio.sleep(0.02)
    return time.monotonic()


async def status_by_keypad(rig: Rig, client: PhoneClient):
    """Each entry typed over the bot's question, as callers who know the number do."""
    await client.wait_audio()
    await client.dtmf("1234567890#")
    await client.wait_audio(since=await wait_messages(rig, client, 2))
    await client.dtmf("12031985#")
    await client.wait_audio(since=await wait_messages(rig, client, 3))
    await client.dtmf("0")
    await asyncio.wait_for(client.closed.wait(), 20)


def test_uuid_audio_dtmf_and_operator_transfer():
    async def scenario():
        async with Rig() as rig:
            client = await rig.call()
            asyncio.create_task(client.keep_line_open(30))
            await status_by_keypad(rig, client)
            sender = f"phone_{client.call_uuid}"
            assert rig.assistant.messages_of(sender) == [
                "/greet", '/check_application_status{"application_number": "1234567890"}', "12.03.1985",
                "/request_operator"]
            assert client.hangup_at is not None  # the server ended the call with a hang-up message
            assert rig.server.dispositions.get(client.call_uuid) == "operator"
            assert client.voiced(), "the caller heard the bot"
    run(scenario())


def test_output_is_paced_in_real_time():
    async def scenario():
        async with Rig(greeting="Здравствуйте! Вы позвонили на горячую линию госуслуг.") as rig:
            client = await rig.call()
            first = await client.wait_audio()
            last = await client.wait_quiet(0.4)
            frames = [f for f in client.frames if first <= f.at <= last]
            audio_s = len(frames) * 0.02
            wall_s = last - first
            assert audio_s > 3
            # Never more than the two frames of lead ahead of real time, never far behind.
            assert audio_s - 0.05 <= wall_s + 0.02 <= audio_s + 0.3, (audio_s, wall_s)
            for i in range(0, len(frames), 10):
                ahead = i * 0.02 - (frames[i].at - first)
                assert ahead <= 0.06, (i, ahead)
            assert all(len(f.pcm) == 320 for f in frames)
            await client.hangup()
            await asyncio.wait_for(client.closed.wait(), 5)
    run(scenario())


def test_barge_in_stops_playback_within_300_ms(espeak):
    speech = espeak.synthesize("Алло, подождите, я хочу спросить.").at(8000).pcm

    async def scenario():
        async with Rig() as rig:
            client = await rig.call()
            await client.wait_audio()
            await client.send_audio(silence(1.0, 8000))  # the bot talks for a second
            # The greeting lasts far longer than this test listens, so silence
            # after the caller speaks can only come from the barge-in; and the
            # bot must be audibly talking right now, or "it stopped" proves nothing.
            assert client.voiced(since=time.monotonic() - 0.5), "the greeting is playing when the caller speaks"
            speech_task = asyncio.create_task(client.send_audio(speech))
            await asyncio.sleep(0)
            started = time.monotonic()
            await asyncio.sleep(0.8)
            session = rig.sessions[0]
            assert len(session.barge_ins) == 1, "the caller's speech cut the playback once"
            cut = session.barge_ins[0]
            assert cut - started < 0.3, f"the barge-in came {(cut - started) * 1000:.0f} ms after the caller spoke"
            # At most the player's two frames of lead were already on the wire.
            assert not client.voiced(since=cut + 0.1), "playback went on after the cut"
            await speech_task
            assert not client.closed.is_set(), "the call goes on after a barge-in"
            await client.hangup()
            await asyncio.wait_for(client.closed.wait(), 5)
    run(scenario())


def test_hang_up_mid_sentence_ends_the_call_and_the_server_goes_on():
    async def scenario():
        async with Rig() as rig:
            client = await rig.call()
            await client.wait_audio()
            await asyncio.sleep(0.5)
            await client.hangup()
            hung = time.monotonic()
            await asyncio.wait_for(client.closed.wait(), 5)
            assert time.monotonic() - hung < 1.0
            for _ in range(50):
                if rig.server.dispositions.get(client.call_uuid):
                    break
                await asyncio.sleep(0.02)
            assert rig.server.dispositions.get(client.call_uuid) == "caller_hangup"
            assert not rig.server.active
            again = await rig.call()
            await again.wait_audio()
            await again.hangup()
            await asyncio.wait_for(again.closed.wait(), 5)
    run(scenario())


def test_garbage_and_an_over_long_frame_close_only_that_call():
    async def scenario():
        async with Rig() as rig:
            good = await rig.call()
            line = asyncio.create_task(good.keep_line_open(30))
            await good.wait_audio()

            garbage = await rig.call(call_uuid=None)
            await garbage.send_raw(b"\x42\x00\x05hello\x99\x99")
            await asyncio.wait_for(garbage.closed.wait(), 5)

            no_uuid = PhoneClient("127.0.0.1", rig.server.port)
            await no_uuid.connect(send_uuid=False)
            await no_uuid.send_raw(encode(KIND_AUDIO, bytes(320)))
            await asyncio.wait_for(no_uuid.closed.wait(), 5)

            long_frame = await rig.call()
            await long_frame.wait_audio()
            await long_frame.send_raw(encode(KIND_AUDIO, bytes(5000)))
            await asyncio.wait_for(long_frame.closed.wait(), 5)
            assert long_frame.hangup_at is not None  # closed cleanly: with a hang-up message

            assert rig.server.protocol_errors == 3
            # The first call never noticed: it goes on to a status check.
            await status_by_keypad(rig, good)
            assert rig.server.dispositions.get(good.call_uuid) == "operator"
            line.cancel()
    run(scenario())


def test_twenty_concurrent_calls():
    async def one(rig, i):
        client = await rig.call()
        line = asyncio.create_task(client.keep_line_open(60))
        await status_by_keypad(rig, client)
        line.cancel()
        return client

    async def scenario():
        async with Rig(greeting="Здравствуйте! Горячая линия госуслуг.") as rig:
            clients = await asyncio.gather(*(one(rig, i) for i in range(20)))
            assert len({c.call_uuid for c in clients}) == 20
            for client in clients:
                messages = rig.assistant.messages_of(f"phone_{client.call_uuid}")
                assert messages[1:3] == ['/check_application_status{"application_number": "1234567890"}',
                                         "12.03.1985"], messages
                assert rig.server.dispositions.get(client.call_uuid) == "operator"
                frames = client.voiced()
                gaps = [b.at - a.at for a, b in zip(frames, frames[1:])]
                assert sorted(gaps)[len(gaps) // 2] < 0.03  # median inter-frame gap: real-time pace held
            assert rig.server.protocol_errors == 0 and not rig.server.active
    run(scenario(), timeout=120)


def test_silence_reprompts_once_then_says_goodbye_and_hangs_up():
    async def scenario():
        async with Rig(greeting="Здравствуйте!", no_input_s=0.5) as rig:
            client = await rig.call()
            line = asyncio.create_task(client.keep_line_open(30))
            await asyncio.wait_for(client.closed.wait(), 30)
            line.cancel()
            assert client.hangup_at is not None
            assert rig.server.dispositions.get(client.call_uuid) == "hangup"
            # greeting, re-prompt, goodbye: three separate stretches of speech
            voiced = client.voiced()
            stretches = 1 + sum(1 for a, b in zip(voiced, voiced[1:]) if b.at - a.at > 0.5)
            assert stretches == 3, stretches
    run(scenario())


def test_speech_is_recognised_and_sent_to_the_assistant(korean_model, korean_voice):
    speech = korean_voice.synthesize("안녕하세요 오늘 날씨가 좋습니다").at(8000).pcm

    async def scenario():
        async with Rig(greeting="Здравствуйте!", asr_model=korean_model) as rig:
            client = await rig.call()
            await client.wait_audio()
            await client.wait_quiet(0.3)
            await client.send_audio(speech + silence(1.5, 8000))
            sender = f"phone_{client.call_uuid}"
            for _ in range(400):  # a cold recogniser's first utterance is slow on a loaded machine
                if len(rig.assistant.messages_of(sender)) >= 2:
                    break
                await asyncio.sleep(0.05)
            messages = rig.assistant.messages_of(sender)
            assert len(messages) == 2 and any("\uac00" <= ch <= "\ud7a3" for ch in messages[1]), messages
            await client.hangup()
            await asyncio.wait_for(client.closed.wait(), 5)
    run(scenario())


def test_misrecognition_asks_to_repeat_then_offers_the_keypad(espeak):
    """Speech the recogniser cannot make out (here: a recogniser that hears nothing)."""
    from voice.asr import ASRResult

    class DeafRecognizer:
        in_speech = False

        def __init__(self):
            self.frames = 0

        def accept(self, pcm):
            self.frames += len(pcm) // 320
            if self.frames >= 60:
                self.frames = 0
                return [ASRResult("final", "", 0.0, "silence")]
            return []

        def set_grammar(self, grammar):
            pass

    speech = espeak.synthesize("Бу бу бу бу бу.").at(8000).pcm

    async def scenario():
        async with Rig(greeting="Здравствуйте!") as rig:
            original = rig.service.session

            def session(call_id, write):
                s = original(call_id, write)
                s.recognizer = DeafRecognizer()
                return s

            rig.server.session_factory = session
            client = await rig.call()
            await client.wait_audio()
            await client.wait_quiet(0.3)
            session_obj = next(iter(rig.server.active.values()))
            for turn in range(2):
                await client.send_audio(speech + silence(1.2, 8000))
                while sum(who == "bot" for who, _ in session_obj.transcript) < 2 + turn:
                    await asyncio.sleep(0.02)
                if turn == 0:
                    await client.wait_quiet(0.3)
            said = [text for who, text in session_obj.transcript if who == "bot"]
            assert "повторите" in said[1].lower() and "клавиатуре" in said[2].lower(), said
            await client.hangup()
            await asyncio.wait_for(client.closed.wait(), 5)
    run(scenario())
