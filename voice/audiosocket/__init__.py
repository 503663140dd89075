"""Asterisk AudioSocket: the phone process of the hotline.

protocol  the wire format: message kinds, ``encode``, ``read_message``
server    ``AudioSocketServer``: one call per TCP connection, peers, call cap,
          the dialplan's disposition lookup over HTTP
service   ``VoiceService`` (models, synthesiser, assistant client shared by
          the calls) and ``main`` — run ``python -m voice.audiosocket``
"""
from voice.audiosocket.protocol import (KIND_AUDIO, KIND_DTMF, KIND_ERROR, KIND_HANGUP, KIND_UUID,
                                        KNOWN_KINDS, MAX_AUDIO_PAYLOAD, MAX_OTHER_PAYLOAD,
                                        ProtocolError, encode, read_message)
from voice.audiosocket.server import (DISPOSITION_TTL_S, FIRST_MESSAGE_TIMEOUT_S, AudioSocketServer,
                                      CallRecord, Dispositions, peer_allowed, peer_networks)
from voice.audiosocket.service import VoiceService, load_asr_model, main, serve, warm_asr

__all__ = [
    "KIND_AUDIO", "KIND_DTMF", "KIND_ERROR", "KIND_HANGUP", "KIND_UUID", "KNOWN_KINDS",
    "MAX_AUDIO_PAYLOAD", "MAX_OTHER_PAYLOAD", "ProtocolError", "encode", "read_message",
    "DISPOSITION_TTL_S", "FIRST_MESSAGE_TIMEOUT_S", "AudioSocketServer", "CallRecord", "Dispositions",
    "peer_allowed", "peer_networks", "VoiceService", "load_asr_model", "main", "serve", "warm_asr",
]
