"""Talk to the assistant by voice on this computer: for trainers and demos.

    python -m voice.loop --in question.wav --out answer.wav   # a recorded question, the spoken answer
    python -m voice.loop --text "статус заявления" --out answer.wav   # no recogniser needed
    python -m voice.loop                                      # microphone and speakers (needs sounddevice)

Options: ``--rasa-url`` (default VOICE_RASA_URL, http://localhost:5005);
``--start-assistant`` starts the action server and ``rasa run`` with the
voice channel for the duration of the loop (what ``make voice`` does);
``--phone`` passes the audio through the 8 kHz telephone path, to hear what
a caller hears. The file modes print what was recognised and answered.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional

from voice.audio import PHONE_RATE, Audio, read_wav, silence, write_wav

LOCAL_RATE = 16000


@contextlib.contextmanager
def assistant(start: bool, url: str):
    """Yield the Rasa URL; with ``start``, run the servers for the duration."""
    if not start:
        yield url
        return
    import yaml

    from hotline.ops.local_servers import LocalServers
    from hotline.nlu.training import model_path

    model = model_path()
    if not model.is_file():
        raise SystemExit(f"no trained model at {model}: run `make train` first")
    workdir = Path(tempfile.mkdtemp(prefix="voice-loop-"))
    credentials = workdir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"rest": None, "voice.channel.VoiceInput": None}))
    print("starting the assistant (action server and rasa run) …", flush=True)
    servers = LocalServers(workdir, model, credentials=credentials)
    try:
        yield servers.url
    finally:
        servers.stop()


async def answer_texts(rasa_url: str, texts: List[str], sender: str, rate: int, tts: Optional[str]) -> Audio:
    from voice.numbers import normalize_utterance
    from voice.rasa_client import VoiceRasaClient
    from voice.prompts import reply_texts
    from voice.tts import Synthesizer, create_engine

    client = VoiceRasaClient(rasa_url)
    synth = Synthesizer(create_engine(tts), rate)
    pcm = b""
    expect = None
    try:
        for said in texts:
            message = normalize_utterance(said, expect=expect)
            reply = await client.send(sender, message)
            if reply.error:
                raise SystemExit(f"the assistant at {rasa_url} did not answer (is it running? make run)")
            expect = reply.expected_slot()
            print(f"> {said}" + (f"   [{message}]" if message != said else ""))
            for text in reply_texts(reply):
                print(f"< {text.strip()}")
                pcm += synth.speak_all(text).pcm + silence(0.3, rate)
    finally:
        await client.close()
    return Audio(pcm, rate)


def recognise_file(path: Path, phone: bool) -> List[str]:
    from voice.asr import StreamingRecognizer, VoskModel
    from voice.config import VoiceConfig

    config = VoiceConfig()
    model = VoskModel(config.vosk_model, config.asr_rate)
    audio = read_wav(path)
    rate = PHONE_RATE if phone else (audio.rate if audio.rate in (8000, 16000, 32000, 48000) else LOCAL_RATE)
    audio = audio.at(rate)
    recognizer = StreamingRecognizer(model, rate)
    frame = rate // 50 * 2
    pcm = audio.pcm + silence(1.5, rate)
    texts = []
    for i in range(0, len(pcm), frame):
        texts += [r.text for r in recognizer.accept(pcm[i:i + frame]) if r.kind == "final" and not r.empty]
    last = recognizer.flush()
    if last and not last.empty:
        texts.append(last.text)
    return texts


async def microphone(rasa_url: str, tts: Optional[str], phone: bool) -> None:
    try:
        import sounddevice
    except ImportError:
        raise SystemExit("the microphone mode needs the sounddevice package (pip install sounddevice) and "
                         "PortAudio (apt-get install libportaudio2); or use --in question.wav --out answer.wav")
    from voice.asr import StreamingRecognizer, VoskModel
    from voice.config import VoiceConfig
    from voice.dialogue import CallSession, DialogueSettings
    from voice.rasa_client import VoiceRasaClient
    from voice.tts import AudioCache, Synthesizer, create_engine

    rate = PHONE_RATE if phone else LOCAL_RATE
    config = VoiceConfig()
    model = VoskModel(config.vosk_model, config.asr_rate)
    loop = asyncio.get_running_loop()
    speaker = sounddevice.RawOutputStream(samplerate=rate, channels=1, dtype="int16", latency="low")
    speaker.start()

    async def play(frame: bytes) -> None:
        await loop.run_in_executor(None, speaker.write, frame)

    session = CallSession(f"loop-{uuid.uuid4()}", VoiceRasaClient(rasa_url),
                          Synthesizer(create_engine(tts), rate, AudioCache()), play,
                          StreamingRecognizer(model, rate, end_silence_ms=config.end_silence_ms),
                          DialogueSettings(rate=rate, no_input_s=30))

    def heard(indata, frames, time_info, status) -> None:  # PortAudio's thread
        loop.call_soon_threadsafe(session.on_audio, bytes(indata))

    print("говорите (Ctrl+C — выход)", flush=True)
    with sounddevice.RawInputStream(samplerate=rate, channels=1, dtype="int16", blocksize=rate // 50,
                                    callback=heard):
        try:
            disposition = await session.run()
        finally:
            speaker.stop()
            await session.rasa.close()
    for who, text in session.transcript:
        print(("< " if who == "bot" else "> ") + text)
    print(f"[{disposition}]")


def main(argv: Optional[List[str]] = None) -> int:
    from voice.config import VoiceConfig

    parser = argparse.ArgumentParser(prog="python -m voice.loop", description="voice loop with the assistant")
    parser.add_argument("--in", dest="input", type=Path, help="a WAV file with the question(s)")
    parser.add_argument("--text", action="append", help="say this instead of recognising audio (repeatable)")
    parser.add_argument("--out", type=Path, help="write the spoken answer(s) to this WAV file")
    parser.add_argument("--rasa-url", default=None)
    parser.add_argument("--start-assistant", action="store_true", help="run the action server and rasa run too")
    parser.add_argument("--tts", default=None, help="espeak (default) or silero")
    parser.add_argument("--phone", action="store_true", help="8 kHz telephone audio instead of 16 kHz")
    parser.add_argument("--sender", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    url = args.rasa_url or VoiceConfig().rasa_url
    with assistant(args.start_assistant, url) as rasa_url:
        if args.input is None and not args.text:
            asyncio.run(microphone(rasa_url, args.tts, args.phone))
            return 0
        if args.out is None:
            parser.error("--out answer.wav is needed with --in or --text")
        texts = list(args.text or [])
        if args.input is not None:
            texts = recognise_file(args.input, args.phone) + texts
            if not texts:
                print("nothing was recognised in", args.input, file=sys.stderr)
                return 1
        rate = PHONE_RATE if args.phone else LOCAL_RATE
        sender = args.sender or f"loop_{uuid.uuid4()}"
        audio = asyncio.run(answer_texts(rasa_url, texts, sender, rate, args.tts))
        write_wav(args.out, audio)
        print(f"answer: {args.out} ({audio.seconds:.1f} s, {audio.rate} Hz)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
