"""One phone conversation: listening, keypad, talking to the assistant, speaking.

Transport-independent: the AudioSocket server (voice/audiosocket/) and the
local loop (voice/loop.py) feed it caller audio frames, keypad digits and
the hang-up, and give it a function that sends audio frames back.

Turn-taking
-----------
* The caller's audio is always listened to. The VAD notices speech; if the
  bot is talking, playback stops at once (barge-in) and the recogniser's
  result becomes the next turn. A keypad press also interrupts.
* The recogniser's final result is normalised for the open question
  (numbers, dates, application numbers: voice/numbers.py) and sent to the
  assistant as ``phone_<call uuid>``; the answer is synthesised sentence by
  sentence and played as soon as the first sentence is ready.
* Silence: after ``no_input_s`` the caller is asked once more; after a
  second silence the bot says goodbye and hangs up.
* Misrecognition (speech heard, nothing or too little understood): the
  caller is asked to repeat; the second time the keypad is offered.
* An operator: ``0`` on the keypad, «оператор», or an answer of the
  assistant that hands over (``request_operator``, a paused conversation, a
  ``voice_action: transfer`` payload) ends the session with the disposition
  ``operator``; the telephone side then transfers the call to the operators'
  queue (docs/voice.md).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Awaitable, Callable, List, Optional

from voice import prompts
from voice.asr import ASRResult, StreamingRecognizer
from voice.audio import PHONE_RATE
from voice.dtmf import OPERATOR, DTMFCollector, KeypadInput
from voice.grammar import grammar_for, match_menu
from voice.numbers import normalize_utterance
from voice.player import Player
from voice.rasa_client import BotReply, VoiceRasaClient, sender_for
from voice.tts import Synthesizer
from voice.vad import FrameVAD, SpeechTracker

logger = logging.getLogger(__name__)

OPERATOR_DISPOSITION = "operator"
HANGUP_DISPOSITION = "hangup"
CALLER_HANGUP = "caller_hangup"


@dataclasses.dataclass
class DialogueSettings:
    rate: int = PHONE_RATE
    no_input_s: float = 8.0
    min_confidence: float = 0.35
    barge_in_ms: int = 100
    inter_digit_s: float = 3.0
    greeting: str = "/greet"
    use_grammar: bool = True


@dataclasses.dataclass
class TurnTiming:
    """For the benchmarks: when the caller's turn ended and the answer started."""

    source: str  # speech or keypad
    input_done: float
    reply_received: float = 0.0
    first_audio: float = 0.0


@dataclasses.dataclass
class _Event:
    kind: str  # utterance, keypad, hangup
    result: Optional[ASRResult] = None
    keypad: Optional[KeypadInput] = None
    at: float = 0.0


class CallSession:
    def __init__(self, call_id: str, rasa: VoiceRasaClient, synthesizer: Synthesizer,
                 write: Callable[[bytes], Awaitable[None]],
                 recognizer: Optional[StreamingRecognizer] = None,
                 settings: Optional[DialogueSettings] = None,
                 asr_executor=None) -> None:
        self.call_id = call_id
        self.sender = sender_for(call_id)
        self.rasa, self.synth = rasa, synthesizer
        self.settings = settings or DialogueSettings()
        self.recognizer = recognizer
        self.player = Player(write, self.settings.rate)
        self.player.on_start = self._on_audio_start
        self.speech = SpeechTracker(FrameVAD(self.settings.rate), start_ms=self.settings.barge_in_ms)
        self.dtmf = DTMFCollector(self.settings.inter_digit_s)
        self.events: "asyncio.Queue[_Event]" = asyncio.Queue()
        self.asr_queue: "asyncio.Queue[Optional[bytes]]" = asyncio.Queue()
        self.asr_executor = asr_executor
        self.expect: Optional[str] = None
        self.last_texts: List[str] = []
        self.disposition: Optional[str] = None
        self.ended = asyncio.Event()
        self.barge_ins: List[float] = []  # monotonic times playback was cut by the caller
        self.timings: List[TurnTiming] = []
        self.transcript: List[tuple] = []
        self._interrupted = False
        self._awaiting_result = False  # speech seen by the VAD, its recognition not yet final
        self._tasks: List[asyncio.Task] = []
        self._silences = 0
        self._misses = 0

    # --- input from the transport -------------------------------------------------

    def on_audio(self, frame: bytes) -> None:
        event = self.speech.feed(frame)
        if event and event.kind == "start":
            self._awaiting_result = self.recognizer is not None
            if self.player.busy:
                self._barge_in()
        if self.recognizer is not None:
            self.asr_queue.put_nowait(frame)

    def on_dtmf(self, key: str) -> None:
        if self.player.busy:
            self._barge_in()
        entry = self.dtmf.press(key, time.monotonic(), expect=self.expect)
        if entry is not None:
            self.events.put_nowait(_Event("keypad", keypad=entry, at=time.monotonic()))

    def on_hangup(self) -> None:
        if self.disposition is None:
            self.disposition = CALLER_HANGUP
        self.events.put_nowait(_Event("hangup"))

    def _barge_in(self) -> None:
        if self.player.stop():
            self._interrupted = True
            self.barge_ins.append(time.monotonic())
            logger.debug("%s: barge-in", self.call_id)

    def _on_audio_start(self, at: float) -> None:
        if self.timings and not self.timings[-1].first_audio:
            self.timings[-1].first_audio = at

    # --- the conversation ---------------------------------------------------------

    async def run(self) -> str:
        """The whole call; returns the disposition (operator, hangup, caller_hangup)."""
        self.player.start()
        if self.recognizer is not None:
            self._tasks.append(asyncio.get_running_loop().create_task(self._asr_worker(), name="asr"))
        try:
            await self._turn(self.settings.greeting, source="start")
            while self.disposition is None:
                event = await self._next_event()
                if event is None:
                    await self._on_silence()
                elif event.kind == "hangup":
                    break
                elif event.kind == "keypad":
                    await self._on_keypad(event)
                elif event.kind == "utterance":
                    await self._on_utterance(event)
        except asyncio.CancelledError:
            self.disposition = self.disposition or CALLER_HANGUP
            raise
        finally:
            await self._close()
        return self.disposition or HANGUP_DISPOSITION

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.player.close()
        if self.recognizer is not None and hasattr(self.recognizer, "close"):
            await asyncio.get_running_loop().run_in_executor(self.asr_executor, self.recognizer.close)
        self.ended.set()

    async def _next_event(self) -> Optional[_Event]:
        """The caller's next input; None when the caller stayed silent too long."""
        deadline = None
        while True:
            if self.player.busy:
                deadline = None
                getter = asyncio.ensure_future(self.events.get())
                idle = asyncio.ensure_future(self.player.wait_idle())
                done, _ = await asyncio.wait({getter, idle}, return_when=asyncio.FIRST_COMPLETED)
                idle.cancel()
                if getter in done:
                    return getter.result()
                getter.cancel()
                continue
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.settings.no_input_s
            timeout = deadline - now
            if self.dtmf.typing:
                timeout = min(timeout, self.dtmf.last_key_at + self.dtmf.wait_s - now)
            if self.speech.speaking or self._awaiting_result:
                # The caller is talking, or has talked and the recogniser is still on it: not silence.
                deadline = now + self.settings.no_input_s
                timeout = min(timeout, 0.5)
            try:
                return await asyncio.wait_for(self.events.get(), max(0.0, timeout))
            except asyncio.TimeoutError:
                now = time.monotonic()
                if self.dtmf.timed_out(now):
                    entry = self.dtmf.finish(self.expect)
                    if entry is not None:
                        return _Event("keypad", keypad=entry, at=now)
                if now >= deadline:
                    return None

    async def _asr_worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            frame = await self.asr_queue.get()
            chunks = [frame]
            while not self.asr_queue.empty():  # batch what piled up while decoding
                chunks.append(self.asr_queue.get_nowait())
            try:
                results = await loop.run_in_executor(self.asr_executor, self.recognizer.accept, b"".join(chunks))
            except Exception:  # noqa: BLE001 - a broken recogniser leaves the keypad working
                logger.exception("%s: recognition failed; keypad only from now on", self.call_id)
                self._awaiting_result = False
                self.recognizer = None
                return
            for result in results:
                if result.kind == "partial":
                    if self.player.busy and len(result.text) > 1:
                        self._barge_in()
                    continue
                self._awaiting_result = False
                if self.player.busy and not self._interrupted:
                    continue  # heard during playback without interrupting it: echo or noise
                self.events.put_nowait(_Event("utterance", result=result, at=time.monotonic()))

    async def _on_silence(self) -> None:
        self._silences += 1
        if self._silences == 1:
            await self._say([prompts.REPROMPT])
            return
        await self._say([prompts.SILENCE_GOODBYE])
        await self.player.wait_idle()
        self.disposition = HANGUP_DISPOSITION

    async def _on_keypad(self, event: _Event) -> None:
        self._silences = 0
        entry = event.keypad
        self.transcript.append(("caller", f"[keypad] {entry.digits}"))
        if entry.action == OPERATOR:
            await self._transfer(event.at, "keypad")
            return
        if entry.message == "/repeat":
            await self._say(self.last_texts)
            return
        await self._turn(entry.message, source="keypad", at=event.at)

    async def _on_utterance(self, event: _Event) -> None:
        self._silences = 0
        self._interrupted = False
        result = event.result
        if result.empty or result.confidence < self.settings.min_confidence:
            self._misses += 1
            self.transcript.append(("caller", f"[not understood] {result.text}"))
            await self._say([prompts.REPEAT if self._misses == 1 else prompts.OFFER_KEYPAD])
            return
        self._misses = 0
        self.transcript.append(("caller", result.text))
        payload = match_menu(result.text)
        if payload == "/request_operator":
            await self._transfer(event.at, "speech")
            return
        message = payload or normalize_utterance(result.text, expect=self.expect)
        await self._turn(message, source="speech", at=event.at)

    async def _turn(self, message: str, source: str, at: Optional[float] = None) -> None:
        timing = TurnTiming(source, at or time.monotonic())
        self.timings.append(timing)
        reply = await self.rasa.send(self.sender, message, metadata={"call_uuid": self.call_id})
        timing.reply_received = time.monotonic()
        if reply.error:
            await self._say([prompts.UNAVAILABLE])
            await self._transfer(None, "error", record=False)
            return
        await self._apply_state(reply)
        if reply.wants_operator():
            await self._transfer(None, "assistant", record=False)
            return
        texts = prompts.reply_texts(reply)
        self.last_texts = texts
        await self._say(texts)
        if reply.ends_call():
            await self.player.wait_idle()
            self.disposition = HANGUP_DISPOSITION

    async def _apply_state(self, reply: BotReply) -> None:
        self.expect = reply.expected_slot()
        if self.recognizer is not None and self.settings.use_grammar:
            # Building a grammar takes tens of milliseconds: not on the event loop that paces audio.
            await asyncio.get_running_loop().run_in_executor(
                self.asr_executor, self.recognizer.set_grammar, grammar_for(self.expect))

    async def _transfer(self, at: Optional[float], why: str, record: bool = True) -> None:
        if at is not None:
            self.timings.append(TurnTiming(why, at))
        if record:  # the tracker shows that the caller asked for a person
            await self.rasa.send(self.sender, "/request_operator", metadata={"call_uuid": self.call_id})
        await self._say([prompts.TRANSFER])
        await self.player.wait_idle()
        self.disposition = OPERATOR_DISPOSITION

    async def _say(self, texts: List[str]) -> None:
        self._interrupted = False
        for text in texts:
            self.transcript.append(("bot", text))
            async for audio in self.synth.stream(text):
                if self._interrupted:
                    return
                self.player.enqueue(audio)
