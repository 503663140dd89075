"""Voice activity, barge-in decisions and keypad entries."""
from __future__ import annotations

import pytest

from voice.audio import silence
from voice.dtmf import OPERATOR, DTMFCollector, interpret
from voice.vad import FrameVAD, SpeechTracker

from voice_fixtures import espeak  # noqa: F401 - fixtures


def frames(pcm: bytes, size: int = 320):
    return [pcm[i:i + size] for i in range(0, len(pcm) - size + 1, size)]


def test_webrtc_vad_is_used_and_tells_speech_from_silence(espeak):
    vad = FrameVAD(8000)
    assert vad.kind == "webrtc"
    speech = espeak.synthesize("Алло, подождите, пожалуйста.").at(8000)
    decisions = [vad.is_speech(f) for f in frames(speech.pcm)]
    assert sum(decisions) / len(decisions) > 0.5
    assert not any(vad.is_speech(f) for f in frames(silence(1, 8000)))


def test_tracker_reports_start_after_the_barge_in_threshold_and_end_after_silence(espeak):
    speech = espeak.synthesize("Алло, подождите.").at(8000)
    tracker = SpeechTracker(FrameVAD(8000), start_ms=100, end_ms=500)
    events = []
    for i, f in enumerate(frames(silence(0.5, 8000) + speech.pcm + silence(1.0, 8000))):
        e = tracker.feed(f)
        if e:
            events.append((e.kind, i * 20))
    assert [k for k, _ in events] == ["start", "end"] or [k for k, _ in events][:1] == ["start"]
    start_ms = events[0][1]
    assert 500 <= start_ms <= 500 + 300  # decided within the threshold of the speech onset
    assert events[-1][0] == "end"


def test_a_click_does_not_barge_in():
    import numpy as np

    from voice.audio import to_bytes

    click = to_bytes(np.r_[np.zeros(100), 20000 * np.ones(20), np.zeros(200)])  # one 20 ms frame
    tracker = SpeechTracker(FrameVAD(8000), start_ms=100)
    assert all(tracker.feed(f) is None for f in [click] + frames(silence(0.5, 8000)))


@pytest.mark.parametrize("keys,expect,message,action", [
    ("0", None, None, OPERATOR),
    ("1#", None, "/check_application_status", None),
    ("1234567890#", None, '/check_application_status{"application_number": "1234567890"}', None),
    ("1234567890#", "application_number", "1234567890", None),
    ("0123456789#", "application_number", "0123456789", None),
    ("12031985#", "birth_date", "12.03.1985", None),
    ("31021985#", "birth_date", "31021985", None),  # no such date: the assistant will say so
    ("0#", "application_number", None, OPERATOR),
    ("12*1234567890#", "application_number", "1234567890", None),
])
def test_keypad_entries(keys, expect, message, action):
    collector = DTMFCollector()
    result = None
    for i, key in enumerate(keys):
        result = collector.press(key, now=i * 0.1, expect=expect) or result
    assert result is not None
    assert (result.message, result.action) == (message, action)


def test_entry_finishes_after_the_inter_digit_timeout():
    collector = DTMFCollector(inter_digit_s=3, menu_digit_s=1.5)
    assert collector.press("1", now=10.0) is None
    assert not collector.timed_out(11.0) and collector.timed_out(11.5)  # a menu choice: answered sooner
    assert collector.finish().message == "/check_application_status"
    collector.press("1", now=20.0)
    collector.press("2", now=20.5)
    assert not collector.timed_out(22.0) and collector.timed_out(23.5)  # a number being typed
    collector.press("1", now=30.0, expect="application_number")
    assert not collector.timed_out(31.6)
    assert interpret("7", None).message == "7"
