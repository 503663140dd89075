"""The phone process: what all calls share, and ``python -m voice.audiosocket``.

Settings: voice/config.py.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from voice.audio import PHONE_RATE
from voice.audiosocket.server import AudioSocketServer

logger = logging.getLogger("voice.audiosocket")


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

