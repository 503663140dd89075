"""The hotline's voice: telephone calls and a local voice loop (docs/voice.md).

audio        PCM buffers, WAV files, resampling (8 kHz ↔ 16 kHz)
asr          Vosk streaming recognition: partial results, endpointing
grammar      phrase hints for closed answers
numbers      spoken numbers, dates, application numbers → entity values
vad          voice activity and barge-in decisions
tts/         synthesis: engines (espeak-ng, Silero), text for the ear, cache
dtmf         keypad entries
prompts      what the voice channel says by itself
player       real-time paced playback
rasa_client  the assistant over HTTP (sender phone_<call uuid>)
channel      the Rasa input channel «voice» (credentials.yml)
dialogue     one call: turn-taking, silence, misrecognition, transfer
audiosocket/ the Asterisk AudioSocket protocol, server and phone process
loop         python -m voice.loop: microphone or WAV files
model_download  python -m voice.model_download download|check
config       settings from the environment
"""
