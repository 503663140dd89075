"""What the phone dialogue says by itself (not the assistant's answers).

Short, fixed sentences: the synthesiser warms them at start-up, so they
cost no synthesis time during a call. The wording is in hotline/texts.py.
"""
from hotline import texts
from hotline.texts import spoken_options

REPROMPT = texts.PHONE_REPROMPT
SILENCE_GOODBYE = texts.PHONE_SILENCE_GOODBYE
REPEAT = texts.PHONE_REPEAT
OFFER_KEYPAD = texts.PHONE_OFFER_KEYPAD
TRANSFER = texts.PHONE_TRANSFER
UNAVAILABLE = texts.PHONE_UNAVAILABLE
OPTIONS = texts.PHONE_OPTIONS
BUSY = texts.PHONE_BUSY

ALL = list(texts.PHONE_FIXED)

__all__ = ["ALL", "BUSY", "OFFER_KEYPAD", "OPTIONS", "REPEAT", "REPROMPT", "SILENCE_GOODBYE", "TRANSFER",
           "UNAVAILABLE",
           "reply_texts", "spoken_options"]


def reply_texts(reply):
    """What to say for an assistant's reply: its texts, then its buttons as spoken options."""
    texts_ = list(reply.texts)
    options = spoken_options([b.get("title", "") for b in reply.buttons])
    return texts_ + [options] if options else texts_
