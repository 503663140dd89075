"""The Asterisk AudioSocket wire protocol (``AudioSocket()`` application, res_audiosocket).

Every message is a 1-byte type, a 2-byte big-endian payload length and the
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

A message of an unknown type, an audio payload longer than
``MAX_AUDIO_PAYLOAD`` or of odd length raises ``ProtocolError``: the server
answers it with a hang-up (voice/audiosocket/server.py). The PBX fake
(fakes/phone.py) speaks the same frames through ``encode``.
"""
from __future__ import annotations

import asyncio
import struct
from typing import Tuple

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_AUDIO = 0x10
KIND_ERROR = 0xFF
KNOWN_KINDS = {KIND_HANGUP, KIND_UUID, KIND_DTMF, KIND_AUDIO, KIND_ERROR}

MAX_AUDIO_PAYLOAD = 1920  # 120 ms at 8 kHz: Asterisk sends 20 ms (320 bytes)
MAX_OTHER_PAYLOAD = 64


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
