"""Delivery of operator messages to a citizen: channel name → async sender.

Runs inside the Rasa server (handoff.rasa_channel's /deliver route), where
the channels' own code and connections live: the socket.io server of the web
widget, the Telegram channel's session, the VK channel's client. The console
and the Telegram workspace reach it over HTTP (handoff.rasa_client).

Senders, by the channel name Rasa records for the conversation
(``tracker.get_latest_input_channel()``):

* ``rest`` — Rasa's REST webhook has no way to push: messages stay in the
  handoff database and REST clients fetch them from
  ``GET /webhooks/handoff/rest/<conversation id>/messages`` (rasa_channel).
* ``socketio`` — the widget's socket.io channel (Rasa's, or the project's
  connectors.webchat subclass): Rasa's SocketIOOutput, to the session's room.
* ``telegram`` — ``connectors.telegram.channel.send_text_to`` (the project's
  aiogram-free channel code; Rasa's own ``output_channel=latest`` path fails).
* ``vk`` — ``connectors.vk.send_text(peer_id, text)``.
* ``max`` — ``connectors.max.channel.send_text_to``.
* ``voice`` — the phone channel answers request by request, like REST: its
  messages are stored for the gateway to fetch (see PULL_CHANNELS below);
* any other registered input channel (``callback``, …) — its
  ``get_output_channel()``, if it can build one without a request. A new
  channel can also register its own sender:

      from handoff.delivery import register
      @register("voice")
      async def send(delivery): ...
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    channel: str
    conversation_id: str
    text: str
    buttons: Optional[List[Dict[str, Any]]] = None
    # The Sanic app of the Rasa server (app.ctx.input_channels), when there is one.
    app: Any = field(default=None, repr=False)


Sender = Callable[[Delivery], Awaitable[str]]
_SENDERS: Dict[str, Sender] = {}


class NoSender(RuntimeError):
    """No way to reach this channel from here (see the adapter notes above)."""


def register(channel: str) -> Callable[[Sender], Sender]:
    def decorator(func: Sender) -> Sender:
        _SENDERS[channel] = func
        return func

    return decorator


def registered() -> List[str]:
    return sorted(_SENDERS)


async def deliver(channel: str, conversation_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None,
                  app: Any = None) -> str:
    """Send one message; returns how ("pushed", "stored"). NoSender if the
    channel cannot be reached; the channel's own errors propagate."""
    delivery = Delivery(channel or "rest", conversation_id, text, buttons or None, app)
    sender = _SENDERS.get(delivery.channel)
    if sender is None:
        return await _generic(delivery)
    return await sender(delivery)


def _input_channel(app: Any, name: str) -> Any:
    for channel in getattr(getattr(app, "ctx", None), "input_channels", None) or []:
        try:
            if channel.name() == name:
                return channel
        except Exception:  # a channel without a name is not ours to judge
            continue
    return None


async def _generic(delivery: Delivery) -> str:
    channel = _input_channel(delivery.app, delivery.channel)
    output = channel.get_output_channel() if channel is not None else None
    if output is None:
        raise NoSender(f"no sender for channel {delivery.channel!r}")
    await _send_with(output, delivery)
    return "pushed"


async def _send_with(output: Any, delivery: Delivery) -> None:
    if delivery.buttons:
        await output.send_text_with_buttons(delivery.conversation_id, delivery.text, delivery.buttons)
    else:
        await output.send_text_message(delivery.conversation_id, delivery.text)


# Channels that cannot be pushed to: the caller stores the message
# (handoff_messages) and the client fetches it from the handoff channel's
# /rest/<conversation id>/messages. The phone channel (voice/, a REST-style
# request/response channel) is one until its gateway can speak an operator's
# words or transfer the call: ADAPTER POINT — register("voice") a sender then.
PULL_CHANNELS = frozenset({"rest", "voice"})


@register("rest")
@register("voice")
async def _stored(delivery: Delivery) -> str:
    return "stored"


@register("socketio")
async def _socketio(delivery: Delivery) -> str:
    from rasa.core.channels.socketio import SocketIOOutput

    channel = _input_channel(delivery.app, "socketio")
    sio = getattr(channel, "sio", None)
    if sio is None:
        raise NoSender("the socket.io channel is not running in this Rasa server")
    # With session_persistence the socket joined the room named after the
    # session id, which is the conversation id.
    await _send_with(SocketIOOutput(sio, channel.bot_message_evt), delivery)
    return "pushed"


@register("telegram")
async def _telegram(delivery: Delivery) -> str:
    try:
        from connectors.telegram.channel import send_text_to
    except ImportError as exc:  # adapter point: the channel package is missing
        raise NoSender(f"connectors.telegram is not available: {exc}") from exc
    await send_text_to(delivery.conversation_id, delivery.text, delivery.buttons)
    return "pushed"


@register("vk")
async def _vk(delivery: Delivery) -> str:
    try:
        from connectors.vk import send_text
        from connectors.vk.channel import peer_from_recipient
    except ImportError as exc:  # adapter point: the channel package is missing
        raise NoSender(f"connectors.vk is not available: {exc}") from exc
    await send_text(peer_from_recipient(delivery.conversation_id), delivery.text, delivery.buttons)
    return "pushed"


@register("max")
async def _max(delivery: Delivery) -> str:
    try:
        from connectors.max.channel import send_text_to
    except ImportError as exc:  # adapter point: the channel package is missing
        raise NoSender(f"connectors.max is not available: {exc}") from exc
    await send_text_to(delivery.conversation_id, delivery.text, delivery.buttons)
    return "pushed"
